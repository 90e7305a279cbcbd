import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, principalOf } from '../../http/auth.js';
import { ProblemResponses } from '../../http/schemas.js';
import {
  AckBody,
  AckResult,
  EntriesQuery,
  EntryIdParams,
  ExportQuery,
  OrganisationPatchBody,
  OrganisationPatchResult,
  OrganisationSchema,
  RegistryEntriesPage,
  RegistryEntrySchema,
} from './schemas.js';
import type { RegistryService } from './service.js';

export interface RegistryRoutesOptions {
  registry: RegistryService;
}

/**
 * The EU DPP registry queue (README, "EU registry") and the organisation's operator identifier.
 * Reads need `read`; acknowledgements `write` (a registry client's key); the operator identifier `admin`.
 */
export const registryRoutes: FastifyPluginAsyncTypebox<RegistryRoutesOptions> = async (app, { registry }) => {
  const tags = ['EU registry'];

  app.get(
    '/compliance/organisation',
    { schema: { tags, summary: "The caller's organisation and its operator identifier", response: { 200: OrganisationSchema, ...ProblemResponses } } },
    async (request) => registry.organisation(principalOf(request).orgId),
  );

  app.patch(
    '/compliance/organisation',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Set the unique operator identifier (EORI number or GLN; admin keys only)',
        description: 'Entries queued as incomplete only for want of the operator identifier get it and become pending.',
        body: OrganisationPatchBody,
        response: { 200: OrganisationPatchResult, ...ProblemResponses },
      },
    },
    async (request) => registry.setOperatorId(principalOf(request).orgId, request.body.operator_id, actorOf(request)),
  );

  app.get(
    '/compliance/registry/entries',
    {
      schema: {
        tags,
        summary: 'Registry entries (one per published version and per withdrawal), in queue order',
        querystring: EntriesQuery,
        response: { 200: RegistryEntriesPage, ...ProblemResponses },
      },
    },
    async (request) => {
      const { page, per_page, ...filter } = request.query;
      return registry.list(principalOf(request).orgId, filter, page, per_page);
    },
  );

  app.get(
    '/compliance/registry/entries/:entry_id',
    { schema: { tags, summary: 'One registry entry', params: EntryIdParams, response: { 200: RegistryEntrySchema, ...ProblemResponses } } },
    async (request) => registry.get(principalOf(request).orgId, request.params.entry_id),
  );

  app.get(
    '/compliance/registry/export',
    {
      schema: {
        tags,
        summary: 'The pending registry entries as NDJSON, for a registry client (reading changes nothing)',
        description:
          'One JSON object a line, in queue order. Continue with `after` = the last `entry_id` read; fewer lines than `limit` means the end. ' +
          'An entry leaves the export when acknowledged (POST …/entries/{id}/ack).',
        querystring: ExportQuery,
        response: {
          200: { description: 'NDJSON, one pending entry a line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
          ...ProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const lines = await registry.pending(principalOf(request).orgId, request.query.after, request.query.limit ?? 1000);
      reply.header('cache-control', 'no-store');
      return reply.type('application/x-ndjson').send(lines.map((l) => JSON.stringify(l) + '\n').join(''));
    },
  );

  app.post(
    '/compliance/registry/entries/:entry_id/ack',
    {
      schema: {
        tags,
        summary: "Record the registry's answer: submitted, registered or rejected (repeating one is harmless)",
        description:
          'pending → submitted → registered | rejected (or pending → registered | rejected directly). The same acknowledgement again answers ' +
          '200 with `unchanged: true`; a contradicting one (another final status, another registry id) answers 409, as does an incomplete entry.',
        params: EntryIdParams,
        body: AckBody,
        response: { 200: AckResult, ...ProblemResponses },
      },
    },
    async (request) => registry.acknowledge(principalOf(request).orgId, request.params.entry_id, request.body, actorOf(request)),
  );
};
