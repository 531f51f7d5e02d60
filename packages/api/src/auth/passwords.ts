import { hash, verify } from '@node-rs/argon2';

// argon2id with the library's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
// `2` is Algorithm.Argon2id: the package declares it as an ambient const enum, unusable under isolatedModules.
const options = { algorithm: 2 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, options);

export const verifyPassword = (passwordHash: string, password: string): Promise<boolean> =>
  verify(passwordHash, password, options);

/**
 * A real hash to verify against when the email is unknown, so a login for a missing account takes
 * as long as one for an existing account and the answer time reveals nothing.
 */
let decoyHash: Promise<string> | undefined;
export const decoyPasswordHash = (): Promise<string> => {
  decoyHash ??= hashPassword('decoy password that matches nothing');
  return decoyHash;
};
