import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { WebhookConfigError } from './webhook-errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The trust of HTTPS deliveries when an operator adds a private CA (`--webhook.ca`): Node's
 * bundled root certificates plus every certificate of `caPem`. Node's `ca` option replaces the
 * bundled roots rather than adding to them, hence the explicit list; and it is built once,
 * because a `ca` given per request would parse the ~140 bundled roots again on every attempt.
 *
 * @throws {WebhookConfigError} when `caPem` holds no PEM certificate, or one that does not
 *   parse (Node's `createSecureContext` silently ignores both).
 */
export function webhookSecureContext(caPem: string): SecureContext {
  const certificates = caPem.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new WebhookConfigError('--webhook.ca: the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  for (const [index, certificate] of certificates.entries()) {
    try {
      new X509Certificate(certificate);
    } catch (error) {
      throw new WebhookConfigError(`--webhook.ca: certificate ${index + 1} does not parse: ${(error as Error).message}`, { cause: error });
    }
  }
  return createSecureContext({ ca: [...rootCertificates, ...certificates] });
}
