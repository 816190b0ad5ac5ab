import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private CA and a receiver certificate it signed, as files and PEM text. */
export interface TestCertificates {
  /** The CA's certificate: what `--webhook.ca` names. */
  caFile: string;
  caPem: string;
  /** The receiver's key and certificate, for `https.createServer`. */
  key: string;
  cert: string;
  /** Removes the directory they were made in. */
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a CA and a server certificate for `dnsNames` and 127.0.0.1, valid for a week, with
 * the openssl CLI (Node can use certificates but not make them) in a fresh temporary
 * directory. EC P-256 keys: a few milliseconds each, where RSA takes a noticeable fraction of a second.
 */
export function makeTestCertificates(dnsNames: readonly string[] = []): TestCertificates {
  const directory = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
  const path = (name: string): string => join(directory, name);
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  openssl(['req', '-x509', '-new', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7', '-subj', '/CN=arango-async-jobs test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-new', ...EC_KEY, '-keyout', 'receiver.key', '-out', 'receiver.csr', '-subj', '/CN=webhook receiver']);
  const names = [...dnsNames.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
  writeFileSync(path('receiver.ext'), `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'receiver.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'receiver.pem',
    '-days', '7', '-extfile', 'receiver.ext']);
  return {
    caFile: path('ca.pem'),
    caPem: readFileSync(path('ca.pem'), 'utf8'),
    key: readFileSync(path('receiver.key'), 'utf8'),
    cert: readFileSync(path('receiver.pem'), 'utf8'),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
