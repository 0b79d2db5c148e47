import type { AppDocument } from '@tessera/metadata';
import type { FlowDef } from '@tessera/workflow';
import { dealApp } from '../lib/deal-app';

/**
 * The benchmark flow: start -> exclusive gateway -> service task (update the
 * record) -> parallel fork of two automatic steps -> join -> end. Every deal the bench
 * starts on is above the threshold, so each instance takes the long path; the default path
 * exists because a gateway must have one.
 */
export const BENCH_FLOW: FlowDef = {
  key: 'bench_flow',
  name: { en: 'Bench flow' },
  object: 'deal',
  variables: [
    { name: 'left', type: 'number' },
    { name: 'right', type: 'number' },
  ],
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'api' } },
    { id: 'gate', type: 'exclusiveGateway', default: 'to_small' },
    { id: 'update', type: 'serviceTask', action: { type: 'updateRecord', values: { stage: 'qualified' } } },
    { id: 'fork', type: 'parallelGateway' },
    { id: 'left', type: 'serviceTask', action: { type: 'setVariables', values: { left: 1 } } },
    { id: 'right', type: 'serviceTask', action: { type: 'setVariables', values: { right: 2 } } },
    { id: 'join', type: 'parallelGateway' },
    { id: 'end', type: 'endEvent', result: 'done' },
    { id: 'end_small', type: 'endEvent', result: 'small' },
  ],
  edges: [
    { id: 'e_start', source: 'start', target: 'gate' },
    { id: 'to_big', source: 'gate', target: 'update', condition: { '>': [{ var: 'amount' }, 100] } },
    { id: 'to_small', source: 'gate', target: 'end_small' },
    { id: 'e_update', source: 'update', target: 'fork' },
    { id: 'e_left', source: 'fork', target: 'left' },
    { id: 'e_right', source: 'fork', target: 'right' },
    { id: 'e_left_join', source: 'left', target: 'join' },
    { id: 'e_right_join', source: 'right', target: 'join' },
    { id: 'e_end', source: 'join', target: 'end' },
  ],
};

/** Timers: each instance waits until the datetime it was given, then ends. */
export const TIMER_FLOW: FlowDef = {
  key: 'bench_timer',
  name: { en: 'Bench timer' },
  variables: [{ name: 'due', type: 'datetime' }],
  nodes: [
    { id: 'start', type: 'startEvent', trigger: { type: 'api' } },
    { id: 'wait', type: 'timerEvent', timer: { date: { var: '$vars.due' } } },
    { id: 'end', type: 'endEvent' },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'wait' },
    { id: 'e2', source: 'wait', target: 'end' },
  ],
};

export function benchFlowApp(): AppDocument {
  return { ...dealApp(), flows: [BENCH_FLOW, TIMER_FLOW] };
}

/**
 * The same diagram for bpmn-engine, by hand: its service tasks and condition are
 * JavaScript (bpmn-engine's own dialect), where ours carry the tessera extension. Element
 * ids are the same as BENCH_FLOW's.
 */
export const BPMN_ENGINE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="bench" targetNamespace="http://tessera.dev/bench">
  <process id="bench_flow" isExecutable="true">
    <startEvent id="start" />
    <exclusiveGateway id="gate" default="to_small" />
    <serviceTask id="update" implementation="\${environment.services.updateRecord}" />
    <parallelGateway id="fork" />
    <serviceTask id="left" implementation="\${environment.services.setLeft}" />
    <serviceTask id="right" implementation="\${environment.services.setRight}" />
    <parallelGateway id="join" />
    <endEvent id="end" />
    <endEvent id="end_small" />
    <sequenceFlow id="e_start" sourceRef="start" targetRef="gate" />
    <sequenceFlow id="to_big" sourceRef="gate" targetRef="update">
      <conditionExpression xsi:type="tFormalExpression" language="javascript">next(null, environment.variables.amount > 100)</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="to_small" sourceRef="gate" targetRef="end_small" />
    <sequenceFlow id="e_update" sourceRef="update" targetRef="fork" />
    <sequenceFlow id="e_left" sourceRef="fork" targetRef="left" />
    <sequenceFlow id="e_right" sourceRef="fork" targetRef="right" />
    <sequenceFlow id="e_left_join" sourceRef="left" targetRef="join" />
    <sequenceFlow id="e_right_join" sourceRef="right" targetRef="join" />
    <sequenceFlow id="e_end" sourceRef="join" targetRef="end" />
  </process>
</definitions>`;
