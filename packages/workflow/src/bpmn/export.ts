import type { LocalizedText } from '@tessera/metadata';
import type { AssigneeRule, FlowDef, FlowEdge, FlowNode, FlowTrigger, ServiceAction, TimerSpec } from '../model/types';
import { layoutFlow } from './layout';
import { displayText, tesseraModdle, type ModdleElement } from './moddle';
import { EXPRESSION_LANGUAGE } from './tessera-moddle';

type Moddle = ReturnType<typeof tesseraModdle>;

/**
 * A flow as BPMN 2.0 XML: standard elements for the graph, conditions and timers, Tessera
 * extension elements for the rest, and a BPMNDiagram (the flow's remembered layout, else an
 * automatic one) so bpmn-js and Camunda Modeler open it as a drawing.
 */
export async function flowToBpmnXml(flow: FlowDef): Promise<string> {
  const moddle = tesseraModdle();
  const writer = new BpmnWriter(moddle);
  const process = writer.process(flow);
  const definitions = moddle.create('bpmn:Definitions', {
    id: `Definitions_${flow.key}`,
    targetNamespace: 'http://tessera.dev/flows',
    exporter: 'Tessera',
    exporterVersion: '1',
    rootElements: [process],
    diagrams: [writer.diagram(flow, process)],
  });
  const { xml } = await moddle.toXML(definitions, { format: true });
  return xml;
}

class BpmnWriter {
  private readonly elements = new Map<string, ModdleElement>();

  constructor(private readonly moddle: Moddle) {}

  private create(type: string, attrs: Record<string, unknown> = {}): ModdleElement {
    const defined = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
    return this.moddle.create(type, defined);
  }

  private expression(key: string, value: unknown): ModdleElement {
    return this.create('tessera:Expression', { key, text: JSON.stringify(value) });
  }

  /** tessera:Expression children for each given value, by key */
  private expressions(values: Record<string, unknown>): ModdleElement[] {
    return Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => this.expression(k, v));
  }

  private text(type: 'tessera:Name' | 'tessera:Label' | 'tessera:Description', text: LocalizedText | undefined): ModdleElement | undefined {
    return text === undefined ? undefined : this.create(type, { en: text.en, zh: text.zh });
  }

  private extensions(values: (ModdleElement | undefined)[]): ModdleElement | undefined {
    const present = values.filter((v): v is ModdleElement => v !== undefined);
    return present.length === 0 ? undefined : this.create('bpmn:ExtensionElements', { values: present });
  }

  private formal(body: string, language?: string): ModdleElement {
    return this.create('bpmn:FormalExpression', { body, language });
  }

  process(flow: FlowDef): ModdleElement {
    const flowExtension = this.create('tessera:Flow', {
      object: flow.object,
      disabled: flow.disabled,
      description: this.text('tessera:Description', flow.description),
      variables: (flow.variables ?? []).map((v) => this.create('tessera:Variable', { name: v.name, type: v.type })),
    });
    const nodes = flow.nodes.map((n) => this.node(n));
    for (const n of flow.nodes) {
      if (n.type === 'boundaryTimer') this.elements.get(n.id)!.attachedToRef = this.elements.get(n.attachedTo);
    }
    const edges = flow.edges.map((e) => this.edge(e));
    for (const n of flow.nodes) {
      if (n.type === 'exclusiveGateway' && n.default !== undefined) this.elements.get(n.id)!.default = this.elements.get(n.default);
    }
    return this.create('bpmn:Process', {
      id: flow.key,
      name: displayText(flow.name),
      isExecutable: true,
      documentation: flow.description ? [this.create('bpmn:Documentation', { text: displayText(flow.description) })] : undefined,
      extensionElements: this.extensions([this.text('tessera:Name', flow.name), flowExtension]),
      flowElements: [...nodes, ...edges],
    });
  }

  private node(node: FlowNode): ModdleElement {
    const base = { id: node.id, name: displayText(node.name) };
    const named = this.text('tessera:Name', node.name);
    let element: ModdleElement;
    switch (node.type) {
      case 'startEvent':
        element = this.create('bpmn:StartEvent', {
          ...base,
          eventDefinitions: node.trigger.type === 'schedule' ? [this.create('bpmn:TimerEventDefinition', { timeCycle: this.formal(node.trigger.cron) })] : undefined,
          extensionElements: this.extensions([named, this.trigger(node.trigger)]),
        });
        break;
      case 'endEvent':
        element = this.create('bpmn:EndEvent', {
          ...base,
          eventDefinitions: node.terminate ? [this.create('bpmn:TerminateEventDefinition')] : undefined,
          extensionElements: this.extensions([named, node.result !== undefined ? this.create('tessera:Result', { value: node.result }) : undefined]),
        });
        break;
      case 'userTask':
        element = this.create('bpmn:UserTask', {
          ...base,
          extensionElements: this.extensions([
            named,
            this.create('tessera:UserTask', {
              kind: node.kind,
              mode: node.mode,
              actions: node.actions?.join(' '),
              editableFields: node.editableFields?.join(' '),
              dueDuration: node.due?.duration,
              assignees: node.assignees.map((a) => this.assignee(a)),
              expressions: this.expressions({ dueDate: node.due?.date }),
            }),
          ]),
        });
        break;
      case 'serviceTask':
        element = this.create('bpmn:ServiceTask', {
          ...base,
          extensionElements: this.extensions([
            named,
            this.action(node.action),
            node.retry ? this.create('tessera:Retry', { maxAttempts: node.retry.maxAttempts, initialDelay: node.retry.initialDelay }) : undefined,
          ]),
        });
        break;
      case 'exclusiveGateway':
        element = this.create('bpmn:ExclusiveGateway', { ...base, extensionElements: this.extensions([named]) });
        break;
      case 'parallelGateway':
        element = this.create('bpmn:ParallelGateway', { ...base, extensionElements: this.extensions([named]) });
        break;
      case 'timerEvent':
        element = this.create('bpmn:IntermediateCatchEvent', { ...base, eventDefinitions: [this.timer(node.timer)], extensionElements: this.extensions([named]) });
        break;
      case 'boundaryTimer':
        element = this.create('bpmn:BoundaryEvent', {
          ...base,
          cancelActivity: node.interrupting,
          eventDefinitions: [this.timer(node.timer)],
          extensionElements: this.extensions([named]),
        });
        break;
    }
    this.elements.set(node.id, element);
    return element;
  }

  private timer(timer: TimerSpec): ModdleElement {
    return this.create('bpmn:TimerEventDefinition', {
      timeDuration: timer.duration !== undefined ? this.formal(timer.duration) : undefined,
      timeDate: timer.date !== undefined ? this.formal(JSON.stringify(timer.date), EXPRESSION_LANGUAGE) : undefined,
    });
  }

  private trigger(trigger: FlowTrigger): ModdleElement {
    return this.create('tessera:Trigger', {
      type: trigger.type,
      fields: trigger.type === 'recordUpdated' ? trigger.fields?.join(' ') : undefined,
      timezone: trigger.type === 'schedule' ? trigger.timezone : undefined,
      label: trigger.type === 'manual' ? this.text('tessera:Label', trigger.label) : undefined,
      expressions: 'condition' in trigger ? this.expressions({ condition: trigger.condition }) : [],
    });
  }

  private assignee(rule: AssigneeRule): ModdleElement {
    return this.create('tessera:Assignee', {
      type: rule.type,
      userId: rule.type === 'user' ? rule.userId : undefined,
      role: rule.type === 'role' ? rule.role : undefined,
      field: rule.type === 'field' || rule.type === 'manager' ? rule.field : undefined,
      expressions: rule.type === 'expression' ? this.expressions({ expression: rule.expression }) : [],
    });
  }

  private action(action: ServiceAction): ModdleElement {
    const keyed = (type: 'tessera:Value' | 'tessera:Header', values: Record<string, unknown> | undefined) =>
      Object.entries(values ?? {}).map(([name, v]) => this.create(type, { name, text: JSON.stringify(v) }));
    const { type, ...rest } = action;
    const r = rest as Record<string, unknown>;
    return this.create('tessera:Action', {
      type,
      object: r.object,
      sort: r.sort,
      limit: r.limit,
      resultVariable: r.resultVariable,
      method: r.method,
      expressions: this.expressions({ record: r.record, filter: r.filter, message: r.message, to: r.to, subject: r.subject, body: r.body, url: r.url }),
      values: keyed('tessera:Value', r.values as Record<string, unknown> | undefined),
      headers: keyed('tessera:Header', r.headers as Record<string, unknown> | undefined),
      recipients: action.type === 'notify' ? action.recipients.map((a) => this.assignee(a)) : [],
    });
  }

  private edge(edge: FlowEdge): ModdleElement {
    const source = this.elements.get(edge.source);
    const target = this.elements.get(edge.target);
    const element = this.create('bpmn:SequenceFlow', {
      id: edge.id,
      name: displayText(edge.name),
      sourceRef: source,
      targetRef: target,
      conditionExpression: edge.condition !== undefined ? this.formal(JSON.stringify(edge.condition), EXPRESSION_LANGUAGE) : undefined,
      extensionElements: this.extensions([this.text('tessera:Name', edge.name), edge.outcome ? this.create('tessera:Outcome', { value: edge.outcome }) : undefined]),
    });
    (source?.get('outgoing') as ModdleElement[] | undefined)?.push(element);
    (target?.get('incoming') as ModdleElement[] | undefined)?.push(element);
    this.elements.set(edge.id, element);
    return element;
  }

  diagram(flow: FlowDef, process: ModdleElement): ModdleElement {
    const layout = layoutFlow(flow);
    const shapes = flow.nodes.map((n) => {
      const b = layout.bounds.get(n.id)!;
      return this.create('bpmndi:BPMNShape', {
        id: `${n.id}_di`,
        bpmnElement: this.elements.get(n.id),
        isMarkerVisible: n.type === 'exclusiveGateway' ? true : undefined,
        bounds: this.create('dc:Bounds', { x: b.x, y: b.y, width: b.width, height: b.height }),
      });
    });
    const edges = flow.edges
      .filter((e) => layout.waypoints.has(e.id))
      .map((e) =>
        this.create('bpmndi:BPMNEdge', {
          id: `${e.id}_di`,
          bpmnElement: this.elements.get(e.id),
          waypoint: layout.waypoints.get(e.id)!.map((p) => this.create('dc:Point', { x: p.x, y: p.y })),
        }),
      );
    const plane = this.create('bpmndi:BPMNPlane', { id: `BPMNPlane_${flow.key}`, bpmnElement: process, planeElement: [...shapes, ...edges] });
    return this.create('bpmndi:BPMNDiagram', { id: `BPMNDiagram_${flow.key}`, plane });
  }
}
