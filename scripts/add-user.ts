// Adds or replaces a user in a users file for --server.users:
//   node dist/scripts/add-user.js --users FILE --username NAME [--password P] [--superuser]
// Without --password the first line of stdin is the password, which keeps it out of the process list.
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { hashPassword, readUsersFile, UsersFileError, type UserEntry } from '../server/auth/index.js';

const USAGE = 'usage: node dist/scripts/add-user.js --users FILE --username NAME [--password P] [--superuser]';
const EXIT_USAGE = 2;

interface AddUserArguments {
  usersFile: string;
  username: string;
  password: string | undefined;
  superuser: boolean;
}

class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

function parseArguments(argv: readonly string[]): AddUserArguments {
  const values = new Map<string, string>();
  let superuser = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--superuser') {
      superuser = true;
      continue;
    }
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    if (name !== '--users' && name !== '--username' && name !== '--password') throw new UsageError(`unknown argument ${JSON.stringify(argument)}`);
    const value = equals === -1 ? argv[++index] : argument.slice(equals + 1);
    if (value === undefined) throw new UsageError(`${name}: missing value`);
    values.set(name, value);
  }
  const usersFile = values.get('--users');
  const username = values.get('--username');
  if (usersFile === undefined || usersFile === '') throw new UsageError('--users FILE is required');
  // Basic credentials are `user:password`, so a name with a colon could never log in.
  if (username === undefined || username === '' || username.includes(':')) {
    throw new UsageError('--username NAME is required and must not contain ":"');
  }
  return { usersFile: resolve(usersFile), username, password: values.get('--password'), superuser };
}

async function readPasswordLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new UsageError('no --password given and stdin is empty');
}

async function readExistingUsers(path: string): Promise<UserEntry[]> {
  try {
    return await readUsersFile(path);
  } catch (error) {
    const missing = error instanceof UsersFileError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (missing) return [];
    throw error;
  }
}

// Write a temporary file beside the target and rename it over, so that a server reading the file
// never sees half of it; fsync first so that a crash cannot leave an empty file behind the rename.
async function writeFileAtomically(path: string, content: string): Promise<void> {
  const temporaryPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temporaryPath, 'wx', 0o600);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseArguments(argv);
  const password = options.password ?? (await readPasswordLine());
  if (password === '') throw new UsageError('the password must not be empty');

  const users = await readExistingUsers(options.usersFile);
  const entry: UserEntry = { username: options.username, passwordHash: hashPassword(password), superuser: options.superuser };
  const index = users.findIndex((user) => user.username === options.username);
  if (index === -1) users.push(entry);
  else users[index] = entry;
  await writeFileAtomically(options.usersFile, `${JSON.stringify({ users }, null, 2)}\n`);

  const role = options.superuser || options.username === 'root' ? 'superuser' : 'user';
  console.log(`${index === -1 ? 'added' : 'replaced'} ${role} "${options.username}" in ${options.usersFile}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`add-user: ${error.message}\n${USAGE}`);
    process.exitCode = EXIT_USAGE;
  } else {
    console.error(`add-user: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
});
