import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { errorInfo, type Outputs, trpc } from '../api';
import { short, usd } from '../format';
import { Link } from '../router';
import { ConfirmButton, ErrorNote, Field, Json, Loaded, Page, Pager, Status, Table, usePaged } from '../ui';

type Agent = Outputs['admin']['agents']['list']['items'][number];

export function AgentsPage() {
  const [editing, setEditing] = useState<Agent | 'new' | null>(null);
  const [trying, setTrying] = useState<string>('');
  const { query: agents, pager } = usePaged('admin.agents.list', {}, (input) =>
    trpc.admin.agents.list.query(input),
  );
  return (
    <Page
      title="Agents"
      actions={
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          Register an agent
        </button>
      }
    >
      {editing ? (
        <AgentForm
          key={editing === 'new' ? 'new' : editing.id}
          agent={editing === 'new' ? undefined : editing}
          onDone={() => setEditing(null)}
        />
      ) : null}
      <Loaded query={agents} isEmpty={(d) => d.items.length === 0} empty="No agents registered yet.">
        {(data) => (
          <>
            <Table
              rows={data.items}
              rowKey={(a) => a.id}
              columns={[
                {
                  header: 'Name',
                  cell: (a) => (
                    <>
                      <strong>{a.name}</strong>
                      <br />
                      <span className="muted">{a.description}</span>
                    </>
                  ),
                },
                { header: 'Price', cell: (a) => a.price_display },
                { header: 'Status', cell: (a) => <Status value={a.status} /> },
                { header: 'Type', cell: (a) => a.agent_type },
                { header: 'Endpoint', cell: (a) => <code className="wrap">{a.endpoint_url}</code> },
                {
                  header: 'Actions',
                  cell: (a) => (
                    <div className="row-actions">
                      <button type="button" onClick={() => setEditing(a)}>
                        Edit <span className="visually-hidden">{a.name}</span>
                      </button>
                      <StatusToggle agent={a} />
                      <button type="button" disabled={a.status !== 'active'} onClick={() => setTrying(a.id)}>
                        Try <span className="visually-hidden">{a.name}</span>
                      </button>
                    </div>
                  ),
                },
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
            <TryIt
              agents={data.items.filter((a) => a.status === 'active')}
              agentId={trying}
              onAgent={setTrying}
            />
          </>
        )}
      </Loaded>
    </Page>
  );
}

function StatusToggle({ agent }: { agent: Agent }) {
  const queryClient = useQueryClient();
  const disable = agent.status === 'active';
  return (
    <ConfirmButton
      label={disable ? 'Disable' : 'Enable'}
      title={`${disable ? 'Disable' : 'Enable'} ${agent.name}?`}
      confirmLabel={disable ? 'Disable agent' : 'Enable agent'}
      danger={disable}
      onConfirm={() =>
        trpc.admin.agents.update
          .mutate({ id: agent.id, status: disable ? 'disabled' : 'active' })
          .then(() => queryClient.invalidateQueries())
      }
    >
      <p>
        {disable
          ? 'Calls to this agent are refused (agent_not_found) from now on; it leaves the public listing.'
          : 'The agent is listed and callable again.'}
      </p>
    </ConfirmButton>
  );
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** The form's fields as text, as typed; turned into the procedure's input on submit. */
function fieldsOf(agent: Agent | undefined) {
  return {
    name: agent?.name ?? '',
    description: agent?.description ?? '',
    endpoint_url: agent?.endpoint_url ?? '',
    price_base: agent ? String(agent.price_base) : '',
    owner_wallet: agent?.owner_wallet ?? '',
    fee_bps: String(agent?.fee_bps ?? 1000),
    agent_type: agent?.agent_type ?? 'simple',
    input_schema: json(agent?.input_schema ?? { type: 'object' }),
    output_schema: json(agent?.output_schema ?? { type: 'object' }),
    example_inputs: json(agent?.example_inputs ?? []),
  };
}

type Fields = ReturnType<typeof fieldsOf>;

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${name} is not valid JSON.`);
  }
}

/** Registers a new agent, or edits one (sending only what changed, so the audit log says what). */
function AgentForm({ agent, onDone }: { agent: Agent | undefined; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<Fields>(() => fieldsOf(agent));
  const save = useMutation({
    mutationFn: async () => {
      const values = {
        name: fields.name.trim(),
        description: fields.description,
        endpoint_url: fields.endpoint_url.trim(),
        // Sent as typed: registration takes the integer as digits too, and checks them itself.
        price_base: fields.price_base.trim(),
        owner_wallet: fields.owner_wallet.trim(),
        fee_bps: Number(fields.fee_bps),
        agent_type: fields.agent_type as Agent['agent_type'],
        input_schema: parseJson('The input schema', fields.input_schema) as Record<string, unknown>,
        output_schema: parseJson('The output schema', fields.output_schema) as Record<string, unknown>,
        example_inputs: parseJson('The example inputs', fields.example_inputs) as unknown[],
      };
      if (!agent) return trpc.admin.agents.register.mutate(values);
      const original = fieldsOf(agent);
      const changed = Object.fromEntries(
        Object.entries(values).filter(
          ([name]) => fields[name as keyof Fields] !== original[name as keyof Fields],
        ),
      );
      return trpc.admin.agents.update.mutate({ id: agent.id, ...changed });
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      onDone();
    },
  });
  const set = (name: keyof Fields) => (e: { target: { value: string } }) =>
    setFields((f) => ({ ...f, [name]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const price = /^\d+$/.test(fields.price_base) ? usd(Number(fields.price_base)) : null;
  return (
    <form className="card agent-form" onSubmit={submit} aria-labelledby="agent-form-title">
      <h2 id="agent-form-title">{agent ? `Edit ${agent.name}` : 'Register an agent'}</h2>
      <div className="grid">
        <Field label="Name" hint="lowercase letters, digits and dashes">
          {(id) => <input id={id} required value={fields.name} onChange={set('name')} />}
        </Field>
        <Field label="Endpoint URL">
          {(id) => (
            <input id={id} type="url" required value={fields.endpoint_url} onChange={set('endpoint_url')} />
          )}
        </Field>
        <Field
          label="Price (USDC base units)"
          hint={price ? `= ${price} per call` : 'micro-dollars: 1000 = $0.001'}
        >
          {(id) => (
            <input
              id={id}
              required
              inputMode="numeric"
              value={fields.price_base}
              onChange={set('price_base')}
            />
          )}
        </Field>
        <Field label="Owner wallet" hint="base58 Solana address the agent is paid to">
          {(id) => <input id={id} required value={fields.owner_wallet} onChange={set('owner_wallet')} />}
        </Field>
        <Field label="Protocol fee (basis points)">
          {(id) => (
            <input
              id={id}
              type="number"
              min={0}
              max={10000}
              value={fields.fee_bps}
              onChange={set('fee_bps')}
            />
          )}
        </Field>
        <Field label="Type">
          {(id) => (
            <select id={id} value={fields.agent_type} onChange={set('agent_type')}>
              <option value="simple">simple</option>
              <option value="complex">complex</option>
              <option value="coordinator">coordinator</option>
            </select>
          )}
        </Field>
      </div>
      <Field label="Description">
        {(id) => <textarea id={id} rows={2} value={fields.description} onChange={set('description')} />}
      </Field>
      <div className="grid">
        <Field label="Input schema (JSON Schema)">
          {(id) => (
            <textarea
              id={id}
              rows={8}
              className="code"
              value={fields.input_schema}
              onChange={set('input_schema')}
            />
          )}
        </Field>
        <Field label="Output schema (JSON Schema)">
          {(id) => (
            <textarea
              id={id}
              rows={8}
              className="code"
              value={fields.output_schema}
              onChange={set('output_schema')}
            />
          )}
        </Field>
        <Field label="Example inputs (JSON array)">
          {(id) => (
            <textarea
              id={id}
              rows={8}
              className="code"
              value={fields.example_inputs}
              onChange={set('example_inputs')}
            />
          )}
        </Field>
      </div>
      {save.isError ? <ErrorNote error={save.error} /> : null}
      <div className="dialog-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {agent ? 'Save changes' : 'Register agent'}
        </button>
      </div>
    </form>
  );
}

/**
 * A real call, paid from one of the admin's own keys. Their secrets never reach the browser: the
 * server calls with the key chosen by id (`admin.agents.try`).
 */
function TryIt({
  agents,
  agentId,
  onAgent,
}: {
  agents: Agent[];
  agentId: string;
  onAgent: (id: string) => void;
}) {
  const queryClient = useQueryClient();
  // The admin's own keys: a few "try it" keys, well within one page.
  const keys = useQuery({
    queryKey: ['keys.list'],
    queryFn: () => trpc.keys.list.query({ status: 'active', limit: 200 }),
  });
  const activeKeys = keys.data?.items ?? [];
  const [keyId, setKeyId] = useState('');
  const [inputText, setInputText] = useState('');
  const [runAsync, setRunAsync] = useState(false);
  const agent = agents.find((a) => a.id === agentId);
  const chosenKey = keyId || activeKeys[0]?.id || '';
  const createKey = useMutation({
    mutationFn: () => trpc.admin.keys.createTestKey.mutate({}),
    onSuccess: (key) => {
      setKeyId(key.id);
      return queryClient.invalidateQueries({ queryKey: ['keys.list'] });
    },
  });
  const call = useMutation({
    mutationFn: () =>
      trpc.admin.agents.try.mutate({
        agent_id: agentId,
        key_id: chosenKey,
        input: parseJson('The input', inputText),
        async: runAsync,
      }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['admin.calls.list'] }),
  });
  // A newly chosen agent (here or by its row's "Try") starts from its first example input.
  const [filledFor, setFilledFor] = useState('');
  if (agentId !== filledFor) {
    setFilledFor(agentId);
    setInputText(json(agent?.example_inputs[0] ?? {}));
  }
  const failedCallId = call.isError ? errorInfo(call.error).details?.call_id : undefined;
  return (
    <section className="card" aria-labelledby="try-title">
      <h2 id="try-title">Try it</h2>
      <p className="muted">
        Makes a real, paid call with one of your own keys. Their secrets stay on the server.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          call.mutate();
        }}
      >
        <div className="grid">
          <Field label="Agent to try">
            {(id) => (
              <select
                id={id}
                value={agentId}
                onChange={(e) => {
                  call.reset();
                  onAgent(e.target.value);
                }}
                required
              >
                <option value="">Choose an agent</option>
                {agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} ({a.price_display})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Pay with key" hint="Keys of your own admin account">
            {(id) => (
              <select id={id} value={chosenKey} onChange={(e) => setKeyId(e.target.value)} required>
                {activeKeys.length === 0 ? <option value="">No key yet: create one</option> : null}
                {activeKeys.map((k) => (
                  <option key={k.id} value={k.id}>
                    {k.name} ({k.hint})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="field">
            <button type="button" onClick={() => createKey.mutate()} disabled={createKey.isPending}>
              Create a test key
            </button>
            {createKey.isError ? <ErrorNote error={createKey.error} /> : null}
          </div>
        </div>
        <Field label="Input (JSON)">
          {(id) => (
            <textarea
              id={id}
              rows={5}
              className="code"
              value={inputText}
              onChange={(e) => setInputText(e.target.value)}
            />
          )}
        </Field>
        <label className="check">
          <input type="checkbox" checked={runAsync} onChange={(e) => setRunAsync(e.target.checked)} /> Run in
          the background (async) and follow its live status
        </label>
        <div className="dialog-actions">
          <button type="submit" className="primary" disabled={!agentId || !chosenKey || call.isPending}>
            {call.isPending ? 'Calling…' : 'Call agent'}
          </button>
        </div>
      </form>
      {call.isError ? (
        <>
          <ErrorNote error={call.error} />
          {typeof failedCallId === 'string' ? (
            <p>
              <Link to={`/calls/${failedCallId}`}>See the failed call</Link>
            </p>
          ) : null}
        </>
      ) : null}
      {call.data ? (
        <output className="try-result">
          <p>
            <Status value={call.data.status} />{' '}
            <Link to={`/calls/${call.data.id}`}>Open call {short(call.data.id, 10)}</Link>
          </p>
          {call.data.status === 'succeeded' ? (
            <>
              <p>
                Cost {call.data.cost.display}, transaction{' '}
                <code>{short(call.data.payment.tx_signature)}</code>, {call.data.latency_ms} ms
              </p>
              <Json value={call.data.output} />
            </>
          ) : (
            <p>Queued: open the call to follow it live.</p>
          )}
        </output>
      ) : null}
    </section>
  );
}
