// The shortcuts: tdk.memory and tdk.answers, typed, one paid call each.
import { TDK } from '@tdk/client';

const tdk = new TDK(); // TDK_API_KEY and TDK_BASE_URL from the environment

await tdk.memory.set('user:42:name', 'Ada');
const { value } = await tdk.memory.get('user:42:name');
const { keys } = await tdk.memory.list('user:42:');
console.log(`memory: ${value}; keys ${keys.join(', ')}`);
await tdk.memory.delete('user:42:name');

await tdk.answers.teach('How long is the refund window?', '30 days from delivery.', { tags: ['billing'] });
const match = await tdk.answers.ask('how long do I have for a refund');
console.log(match.found ? `answers: ${match.answer} (score ${match.score.toFixed(2)})` : 'answers: no match');
await tdk.answers.forget({ question: 'How long is the refund window?' });
