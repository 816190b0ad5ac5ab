import { createInterface } from 'node:readline';

/** Ctrl-C at the password prompt. */
export class PromptInterruptedError extends Error {
  readonly code = 'ERR_PROMPT_INTERRUPTED';

  constructor() {
    super('interrupted at the password prompt');
    this.name = 'PromptInterruptedError';
  }
}

/**
 * The password for `--user`: at a terminal, asked for on stderr without echo; otherwise the
 * first line of stdin (`printf '%s\n' "$PASS" | jobs --user alice list`), without its line
 * end. An empty stdin is an empty password, which the server then accepts or refuses.
 */
export function readPassword(username: string, input: NodeJS.ReadStream = process.stdin, prompt: NodeJS.WriteStream = process.stderr): Promise<string> {
  return input.isTTY === true ? promptWithoutEcho(`Password for ${username}: `, input, prompt) : readFirstLine(input);
}

function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      resolve(line);
      lines.close();
    });
    lines.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

/** Raw mode, so that the terminal does not echo: each key arrives as typed and only Enter ends it. */
function promptWithoutEcho(text: string, input: NodeJS.ReadStream, prompt: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let password = '';
    const finish = (error: Error | null): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      prompt.write('\n');
      if (error === null) resolve(password);
      else reject(error);
    };
    const onData = (chunk: string): void => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') return finish(null);
        if (character === '\u0003') return finish(new PromptInterruptedError());
        if (character === '\u007f' || character === '\b') password = password.slice(0, -1);
        else password += character;
      }
    };
    prompt.write(text);
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}
