import type { FastifyInstance } from 'fastify';
import { ProblemError } from '@tessera/metadata';
import { bpmnXmlToFlow, flowToBpmnXml, type FlowDef } from '@tessera/workflow';
import type { ServerContext } from '../context';
import { actorOf, identity } from '../auth/context';
import { requireAdmin } from '../auth/admin';
import { BPMN_MEDIA_TYPES, flowParams } from './schemas';

type FlowRoute = { Params: { app: string; flow: string } };

/**
 * BPMN 2.0 XML out of the published flow, and into the draft (administrators). An import goes through the
 * draft save, so the flow is validated exactly as one saved as JSON (each problem named
 * with its node), and elements outside the supported subset are refused by name (422).
 */
export function registerBpmnRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get<FlowRoute>('/api/apps/:app/flows/:flow/bpmn', { schema: { params: flowParams } }, async (request, reply) => {
    const app = await ctx.metadata.getPublished(identity(request).workspaceId, request.params.app);
    const flow = flowsOf(app.document).find((f) => f.key === request.params.flow);
    if (!flow) throw new ProblemError('not_found', `Flow "${request.params.flow}" not found in app "${request.params.app}" (version ${app.version})`);
    return reply
      .type('application/xml; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${flow.key}.bpmn"`)
      .send(await flowToBpmnXml(flow));
  });

  // Its own scope, so the XML body parser applies to this route only.
  api.register(async (scope) => {
    scope.addContentTypeParser(BPMN_MEDIA_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.put<FlowRoute & { Body: unknown }>('/api/apps/:app/draft/flows/:flow/bpmn', { schema: { params: flowParams } }, async (request) => {
      // designing flows is administration, as writing a draft's reports and dashboards is
      await requireAdmin(request, ctx.users);
      if (typeof request.body !== 'string' || request.body.trim() === '') {
        throw new ProblemError('bad_request', 'Send the BPMN XML as the body', [
          { field: 'body', code: 'required', message: `a BPMN 2.0 XML document (Content-Type ${BPMN_MEDIA_TYPES[0]})` },
        ]);
      }
      const actor = actorOf(request);
      const draft = await ctx.metadata.getDraft(actor.workspaceId, request.params.app);
      const flows = flowsOf(draft);
      const existing = flows.findIndex((f) => f.key === request.params.flow);
      const imported = await bpmnXmlToFlow(request.body, { key: request.params.flow, ...(existing >= 0 ? { name: flows[existing]!.name } : {}) });
      const next = existing >= 0 ? flows.map((f, i) => (i === existing ? imported : f)) : [...flows, imported];
      const saved = await ctx.metadata.saveDraft(actor, request.params.app, { ...draft, flows: next });
      return flowsOf(saved).find((f) => f.key === request.params.flow) ?? imported;
    });
  });
}

function flowsOf(document: { flows?: unknown }): FlowDef[] {
  return (document.flows ?? []) as FlowDef[];
}
