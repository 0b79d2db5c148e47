/**
 * BPMN 2.0 XML import and export: lossless round trips through the Tessera extension
 * namespace, diagrams other modellers can open, and unsupported elements refused by name.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BpmnModdle, type ModdleElement } from 'bpmn-moddle';
import { isProblemError, type LocalizedText } from '@tessera/metadata';
import { bpmnXmlToFlow, checkFlows, exampleFlow, exampleFlowApp, flowToBpmnXml, type FlowDef } from '../src/index';
import { blocks, buildFlow } from './flow-validate-gen';

/** the flow as imported, without the diagram layout the export generated for nodes and edges that had none */
function withoutGeneratedLayout(imported: FlowDef, original: FlowDef): FlowDef {
  const copy = structuredClone(imported);
  copy.nodes.forEach((n, i) => {
    if (original.nodes[i]?.layout === undefined) delete n.layout;
  });
  copy.edges.forEach((e, i) => {
    if (original.edges[i]?.waypoints === undefined) delete e.waypoints;
  });
  return copy;
}

async function roundTrip(flow: FlowDef): Promise<FlowDef> {
  return bpmnXmlToFlow(await flowToBpmnXml(flow), { key: flow.key });
}

async function importProblem(xml: string): Promise<{ message: string; errors: { field: string; code: string; message: string }[] }> {
  try {
    await bpmnXmlToFlow(xml, { key: 'imported' });
  } catch (e) {
    if (isProblemError(e)) return e;
    throw e;
  }
  throw new Error('expected the import to be refused');
}

describe('flow -> BPMN XML -> flow', () => {
  it('keeps every property of the rich example', async () => {
    const flow = exampleFlow();
    const imported = await roundTrip(flow);
    expect(withoutGeneratedLayout(imported, flow)).toEqual(flow);
    // once imported, the layout is the flow's own and a second trip keeps it exactly
    expect(await roundTrip(imported)).toEqual(imported);
    expect(checkFlows({ ...exampleFlowApp(), flows: [imported] })).toEqual([]);
  });

  const localizedName = fc.option(
    fc.oneof(
      fc.record({ en: fc.string({ minLength: 1, maxLength: 12 }) }, { requiredKeys: ['en'] }),
      fc.record({ zh: fc.constantFrom('审批', '财务 <审批> & "复核"', '合同') }),
      fc.record({ en: fc.constantFrom('a & b', "it's <late>", ' padded '), zh: fc.constantFrom('会签', '或签') }),
    ),
    { nil: undefined },
  ) as fc.Arbitrary<LocalizedText | undefined>;

  it('keeps random well-formed flows, names in both languages and XML-hostile text included', async () => {
    await fc.assert(
      fc.asyncProperty(blocks, fc.array(localizedName, { minLength: 60, maxLength: 60 }), async (seq, names) => {
        const flow = buildFlow(seq);
        flow.nodes.forEach((n, i) => {
          if (names[i % names.length]) n.name = names[i % names.length];
        });
        flow.edges.forEach((e, i) => {
          if (names[(i + 7) % names.length]) e.name = names[(i + 7) % names.length];
        });
        const imported = await roundTrip(flow);
        expect(withoutGeneratedLayout(imported, flow)).toEqual(flow);
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});

describe('the exported XML in a plain BPMN reader', () => {
  it('parses with bpmn-moddle without the extension, keeping the standard parts and the diagram', async () => {
    const flow = exampleFlow();
    const xml = await flowToBpmnXml(flow);
    const { rootElement, warnings } = await new BpmnModdle().fromXML(xml);
    expect(warnings).toEqual([]);
    const process = (rootElement.rootElements as ModdleElement[]).find((r) => r.$type === 'bpmn:Process')!;
    const elements = process.flowElements as ModdleElement[];
    const byId = new Map(elements.map((e) => [e.id, e]));
    expect(byId.get('finance_review')!.$type).toBe('bpmn:UserTask');
    expect(byId.get('mark')!.$type).toBe('bpmn:ServiceTask');
    expect(byId.get('split')!.default.id).toBe('e_small');
    expect(byId.get('fork')!.$type).toBe('bpmn:ParallelGateway');
    expect(byId.get('rejected')!.eventDefinitions[0].$type).toBe('bpmn:TerminateEventDefinition');
    expect(byId.get('pause')!.$type).toBe('bpmn:IntermediateCatchEvent');
    expect(byId.get('pause')!.eventDefinitions[0].timeDuration.body).toBe('PT15M');
    const sla = byId.get('sla')!;
    expect([sla.$type, sla.attachedToRef.id, sla.cancelActivity, sla.eventDefinitions[0].timeDuration.body]).toEqual(['bpmn:BoundaryEvent', 'finance_review', false, 'PT4H']);
    const large = byId.get('e_large')!;
    expect([large.sourceRef.id, large.targetRef.id]).toEqual(['split', 'finance_review']);
    expect(JSON.parse(large.conditionExpression.body)).toEqual(flow.edges.find((e) => e.id === 'e_large')!.condition);
    // every node and edge is drawn, at the remembered place where the flow has one
    const plane = (rootElement.diagrams as ModdleElement[])[0]!.plane;
    const shapes = (plane.planeElement as ModdleElement[]).filter((p) => p.$type === 'bpmndi:BPMNShape');
    const edges = (plane.planeElement as ModdleElement[]).filter((p) => p.$type === 'bpmndi:BPMNEdge');
    expect(shapes.map((s) => s.bpmnElement.id).sort()).toEqual(flow.nodes.map((n) => n.id).sort());
    expect(edges).toHaveLength(flow.edges.length);
    expect(shapes.find((s) => s.bpmnElement.id === 'start')!.bounds).toMatchObject({ x: 100, y: 100, width: 36, height: 36 });
    for (const e of edges) expect(e.waypoint.length).toBeGreaterThanOrEqual(2);
    // the automatic layout puts no two shapes on top of each other (boundary timers sit on their task)
    const boxes = shapes.filter((s) => s.bpmnElement.$type !== 'bpmn:BoundaryEvent').map((s) => s.bounds);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap).toBe(false);
      }
    }
  });
});

/** a diagram as bpmn-js saves it: its id style, incoming/outgoing lists, DI, a Tessera extension where needed */
const DRAWN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tessera="http://tessera.dev/schema/bpmn" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="17.0.0">
  <bpmn:process id="Process_1" name="报销审批" isExecutable="false">
    <bpmn:startEvent id="StartEvent_1" name="Submitted">
      <bpmn:outgoing>Flow_0a</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:exclusiveGateway id="Gateway_0x1" name="Amount?" default="Flow_small">
      <bpmn:incoming>Flow_0a</bpmn:incoming>
      <bpmn:outgoing>Flow_big</bpmn:outgoing>
      <bpmn:outgoing>Flow_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_0a" sourceRef="StartEvent_1" targetRef="Gateway_0x1" />
    <bpmn:sequenceFlow id="Flow_big" name="大额" sourceRef="Gateway_0x1" targetRef="Activity_1ab">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="application/vnd.tessera.expression+json">{"&gt;": [{"var": "amount"}, 10000]}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Gateway_0x1" targetRef="Event_end" />
    <bpmn:userTask id="Activity_1ab" name="经理审批">
      <bpmn:extensionElements>
        <tessera:userTask kind="approval" mode="any">
          <tessera:assignee type="manager" />
        </tessera:userTask>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_big</bpmn:incoming>
      <bpmn:outgoing>Flow_ok</bpmn:outgoing>
      <bpmn:outgoing>Flow_no</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Event_sla" attachedToRef="Activity_1ab">
      <bpmn:outgoing>Flow_late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P1D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_ok" sourceRef="Activity_1ab" targetRef="Event_end">
      <bpmn:extensionElements><tessera:outcome value="approved" /></bpmn:extensionElements>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_no" sourceRef="Activity_1ab" targetRef="Event_rejected">
      <bpmn:extensionElements><tessera:outcome value="rejected" /></bpmn:extensionElements>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_late" sourceRef="Event_sla" targetRef="Event_rejected" />
    <bpmn:endEvent id="Event_end">
      <bpmn:incoming>Flow_small</bpmn:incoming>
      <bpmn:incoming>Flow_ok</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="Event_rejected" name="Rejected">
      <bpmn:incoming>Flow_no</bpmn:incoming>
      <bpmn:incoming>Flow_late</bpmn:incoming>
      <bpmn:terminateEventDefinition id="TerminateEventDefinition_1" />
    </bpmn:endEvent>
    <bpmn:textAnnotation id="TextAnnotation_1"><bpmn:text>a note</bpmn:text></bpmn:textAnnotation>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="_BPMNShape_StartEvent_2" bpmnElement="StartEvent_1">
        <dc:Bounds x="179" y="99" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="172" y="142" width="50" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Gateway_0x1_di" bpmnElement="Gateway_0x1" isMarkerVisible="true">
        <dc:Bounds x="265" y="92" width="50" height="50" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_1ab_di" bpmnElement="Activity_1ab">
        <dc:Bounds x="370" y="77" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_end_di" bpmnElement="Event_end">
        <dc:Bounds x="532" y="99" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_rejected_di" bpmnElement="Event_rejected">
        <dc:Bounds x="532" y="222" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_sla_di" bpmnElement="Event_sla">
        <dc:Bounds x="402" y="139" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_0a_di" bpmnElement="Flow_0a">
        <di:waypoint x="215" y="117" /><di:waypoint x="265" y="117" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

describe('importing a diagram drawn in bpmn-js', () => {
  it('maps the standard elements and the extension, keeps the drawing and validates', async () => {
    const flow = await bpmnXmlToFlow(DRAWN, { key: 'expenses' });
    expect(flow.name).toEqual({ zh: '报销审批' });
    expect(flow.nodes.map((n) => [n.id, n.type])).toEqual([
      ['StartEvent_1', 'startEvent'],
      ['Gateway_0x1', 'exclusiveGateway'],
      ['Activity_1ab', 'userTask'],
      ['Event_sla', 'boundaryTimer'],
      ['Event_end', 'endEvent'],
      ['Event_rejected', 'endEvent'],
    ]);
    expect(flow.nodes[0]).toMatchObject({ name: { en: 'Submitted' }, trigger: { type: 'api' }, layout: { x: 179, y: 99, width: 36, height: 36 } });
    expect(flow.nodes[1]).toMatchObject({ default: 'Flow_small' });
    expect(flow.nodes[2]).toMatchObject({ name: { zh: '经理审批' }, kind: 'approval', mode: 'any', assignees: [{ type: 'manager' }] });
    expect(flow.nodes[3]).toMatchObject({ attachedTo: 'Activity_1ab', interrupting: true, timer: { duration: 'P1D' } });
    expect(flow.nodes[5]).toMatchObject({ terminate: true });
    expect(flow.edges.find((e) => e.id === 'Flow_big')).toMatchObject({ name: { zh: '大额' }, condition: { '>': [{ var: 'amount' }, 10000] } });
    expect(flow.edges.find((e) => e.id === 'Flow_0a')!.waypoints).toEqual([{ x: 215, y: 117 }, { x: 265, y: 117 }]);
    expect(flow.edges.find((e) => e.id === 'Flow_no')!.outcome).toBe('rejected');
    const app = exampleFlowApp();
    expect(checkFlows({ ...app, flows: [{ ...flow, object: 'deal' }] })).toEqual([]);
    // and back out: the drawn positions are kept
    const again = await bpmnXmlToFlow(await flowToBpmnXml(flow), { key: 'expenses' });
    expect(again.nodes.map((n) => n.layout)).toEqual(flow.nodes.map((n) => n.layout));
  });
});

describe('refusing what is not supported', () => {
  const wrap = (inner: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="x"><bpmn:process id="P"><bpmn:startEvent id="S" />${inner}</bpmn:process></bpmn:definitions>`;
  const cases: [string, string, string][] = [
    ['a sub-process', '<bpmn:subProcess id="Sub_1" />', 'bpmn:subProcess at id Sub_1 is not supported'],
    ['an inclusive gateway', '<bpmn:inclusiveGateway id="G_1" />', 'bpmn:inclusiveGateway at id G_1 is not supported'],
    ['a script task', '<bpmn:scriptTask id="T_1" />', 'bpmn:scriptTask at id T_1 is not supported'],
    ['a plain task', '<bpmn:task id="T_2" />', 'bpmn:task at id T_2 is not supported'],
    ['a call activity', '<bpmn:callActivity id="C_1" />', 'bpmn:callActivity at id C_1 is not supported'],
    ['an event-based gateway', '<bpmn:eventBasedGateway id="G_2" />', 'bpmn:eventBasedGateway at id G_2 is not supported'],
    ['a message end event', '<bpmn:endEvent id="E_1"><bpmn:messageEventDefinition /></bpmn:endEvent>', 'bpmn:messageEventDefinition at id E_1 is not supported'],
    ['a signal catch event', '<bpmn:intermediateCatchEvent id="I_1"><bpmn:signalEventDefinition /></bpmn:intermediateCatchEvent>', 'bpmn:signalEventDefinition at id I_1 is not supported'],
    ['a throw event', '<bpmn:intermediateThrowEvent id="I_2" />', 'bpmn:intermediateThrowEvent at id I_2 is not supported'],
    ['an error boundary event', '<bpmn:userTask id="U"/><bpmn:boundaryEvent id="B_1" attachedToRef="U"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>', 'bpmn:errorEventDefinition at id B_1 is not supported'],
    ['a multi-instance task', '<bpmn:userTask id="U_2"><bpmn:multiInstanceLoopCharacteristics /></bpmn:userTask>', 'bpmn:multiInstanceLoopCharacteristics at id U_2 is not supported'],
    ['a data object', '<bpmn:dataObject id="Data_1" />', 'bpmn:dataObject at id Data_1 is not supported'],
    ['a service task without an action', '<bpmn:serviceTask id="Svc_1" />', 'bpmn:serviceTask at id Svc_1 has no tessera:action'],
    ['a condition that is not a Tessera expression', '<bpmn:sequenceFlow id="F_1" sourceRef="S" targetRef="S"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${amount &gt; 100}</bpmn:conditionExpression></bpmn:sequenceFlow>', 'bpmn:conditionExpression at id F_1 is not a Tessera expression'],
  ];
  for (const [what, inner, message] of cases) {
    it(`refuses ${what}, naming it and its id`, async () => {
      const problem = await importProblem(wrap(inner));
      expect(problem.errors.map((e) => e.message).join('\n')).toContain(message);
    });
  }

  it('reports every problem at once', async () => {
    const problem = await importProblem(wrap('<bpmn:subProcess id="A" /><bpmn:scriptTask id="B" />'));
    expect(problem.errors.map((e) => e.field)).toEqual(['A', 'B']);
    expect(problem.message).toContain('bpmn:subProcess at id A');
  });

  it('damaged XML is refused as a problem or read, never crashes', async () => {
    const xml = await flowToBpmnXml(exampleFlow());
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: xml.length - 1 }), fc.nat({ max: 200 }), fc.constantFrom('', '<', '"', 'x', '<bpmn:task id="T"/>', '{'), async (at, length, insert) => {
        const damaged = xml.slice(0, at) + insert + xml.slice(at + length);
        try {
          const flow = await bpmnXmlToFlow(damaged, { key: 'damaged' });
          expect(Array.isArray(flow.nodes)).toBe(true);
        } catch (e) {
          expect(isProblemError(e), String(e)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('refuses several pools and text that is not XML', async () => {
    const pools = `<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x"><bpmn:collaboration id="Collab_1"><bpmn:participant id="P1" processRef="A" /><bpmn:participant id="P2" processRef="B" /></bpmn:collaboration><bpmn:process id="A" /><bpmn:process id="B" /></bpmn:definitions>`;
    expect((await importProblem(pools)).errors.map((e) => e.field)).toContain('Collab_1');
    expect((await importProblem('not xml at all <')).errors[0]!.code).toBe('invalid_xml');
  });
});
