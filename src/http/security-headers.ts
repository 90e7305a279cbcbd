/**
 * Security headers on every answer (@fastify/helmet): `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`, `Cross-Origin-Resource-Policy`
 * (same-origin for the API; the public routes answer `cross-origin` so a passport, its QR code and
 * JSON-LD can be embedded and fetched from anywhere), a CSP that allows nothing (the API answers
 * data, never documents to render), and `Strict-Transport-Security` when PUBLIC_BASE_URL is https.
 * The public passport page and the API documentation replace the CSP with their own (the page's
 * allows its one inline stylesheet by hash).
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

export async function installSecurityHeaders(app: FastifyInstance, config: Pick<Config, 'publicBaseUrl'>): Promise<void> {
  const https = config.publicBaseUrl.startsWith('https:');
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over https; on plain http a browser ignores it anyway.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
}
