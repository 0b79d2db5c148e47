import type { AppDocument } from '@tessera/metadata';
import type { FlowDef } from './types';

/**
 * A deal-approval app whose one flow uses every node type, trigger-independent option and
 * service action of the model. It documents the model by example, and tests use it: the
 * JSON Schema must accept it, the validator must find nothing wrong with it, and BPMN XML
 * must round-trip it. Returns fresh objects on every call.
 */
export function exampleApp(): AppDocument {
  return {
    objects: [
      {
        key: 'company',
        label: { en: 'Company', zh: '公司' },
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name', zh: '名称' } },
          { key: 'industry', type: 'text', label: { en: 'Industry' } },
        ],
      },
      {
        key: 'deal',
        label: { en: 'Deal', zh: '交易' },
        fields: [
          { key: 'title', type: 'text', label: { en: 'Title', zh: '标题' } },
          { key: 'amount', type: 'currency', currency: 'CNY', label: { en: 'Amount', zh: '金额' } },
          {
            key: 'stage',
            type: 'select',
            label: { en: 'Stage' },
            options: ['new', 'review', 'approved', 'rejected'].map((value) => ({ value, label: { en: value } })),
          },
          { key: 'close_date', type: 'date', label: { en: 'Close date' } },
          { key: 'approver', type: 'user', label: { en: 'Approver', zh: '审批人' } },
          { key: 'company', type: 'relation', target: 'company', label: { en: 'Company' } },
          { key: 'notes', type: 'longtext', label: { en: 'Notes' } },
        ],
      },
    ],
    roles: [{ key: 'finance', name: { en: 'Finance' }, objects: {} }],
    flows: [exampleFlow()],
  };
}

export function exampleFlow(): FlowDef {
  return {
    key: 'deal_approval',
    name: { en: 'Deal approval', zh: '交易审批' },
    description: { en: 'Large deals need finance approval' },
    object: 'deal',
    disabled: false,
    variables: [
      { name: 'level', type: 'text' },
      { name: 'discount', type: 'number' },
      { name: 'urgent', type: 'boolean' },
      { name: 'deadline', type: 'date' },
      { name: 'decided_at', type: 'datetime' },
      { name: 'open_deals', type: 'list' },
      { name: 'company_id', type: 'text' },
      { name: 'erp_response', type: 'text' },
    ],
    nodes: [
      { id: 'start', type: 'startEvent', name: { en: 'Deal submitted' }, layout: { x: 100, y: 100, width: 36, height: 36 }, trigger: { type: 'recordUpdated', fields: ['stage'], condition: { '==': [{ var: 'stage' }, 'review'] } } },
      { id: 'classify', type: 'serviceTask', name: { en: 'Classify' }, action: { type: 'setVariables', values: { level: { if: [{ '>': [{ var: 'amount' }, 100000] }, 'high', 'normal'] }, urgent: { '>': [{ var: 'amount' }, 500000] } } } },
      { id: 'split', type: 'exclusiveGateway', name: { en: 'Large?' }, default: 'e_small' },
      {
        id: 'finance_review',
        type: 'userTask',
        name: { en: 'Finance review', zh: '财务审批' },
        kind: 'approval',
        mode: 'all',
        assignees: [
          { type: 'role', role: 'finance' },
          { type: 'field', field: 'approver' },
          { type: 'manager', field: 'owner_id' },
          { type: 'user', userId: '0190f3b4-0000-7000-8000-000000000001' },
          { type: 'expression', expression: { var: 'approver' } },
        ],
        actions: ['approve', 'reject', 'return', 'delegate', 'comment'],
        due: { duration: 'P2D', date: { addDays: [{ today: [] }, 3] } },
        editableFields: ['notes'],
      },
      { id: 'sla', type: 'boundaryTimer', name: { en: 'SLA' }, attachedTo: 'finance_review', timer: { duration: 'PT4H' }, interrupting: false },
      { id: 'remind', type: 'serviceTask', action: { type: 'notify', recipients: [{ type: 'role', role: 'finance' }], message: { concat: ['Waiting: ', { var: 'title' }] } } },
      { id: 'remind_end', type: 'endEvent' },
      { id: 'fork', type: 'parallelGateway' },
      { id: 'mark', type: 'serviceTask', action: { type: 'updateRecord', object: 'deal', record: { var: 'id' }, values: { stage: 'approved' } }, retry: { maxAttempts: 3, initialDelay: 'PT5S' } },
      { id: 'log', type: 'serviceTask', action: { type: 'createRecord', object: 'company', values: { name: { var: 'title' } }, resultVariable: 'company_id' } },
      { id: 'join', type: 'parallelGateway' },
      { id: 'query', type: 'serviceTask', action: { type: 'queryRecords', object: 'deal', filter: { '==': [{ var: 'stage' }, { var: '$vars.level' }] }, sort: '-amount', limit: 10, resultVariable: 'open_deals' } },
      { id: 'hook', type: 'serviceTask', action: { type: 'http', method: 'POST', url: 'https://erp.example.com/deals', headers: { 'X-Level': { var: '$vars.level' } }, body: { var: 'title' }, resultVariable: 'erp_response' }, retry: { maxAttempts: 5 } },
      { id: 'wait', type: 'timerEvent', timer: { date: { var: 'close_date' } } },
      { id: 'mail', type: 'serviceTask', action: { type: 'email', to: 'sales@example.com', subject: { concat: ['Deal ', { var: 'title' }] }, body: 'Approved' } },
      { id: 'done', type: 'endEvent', result: 'approved' },
      { id: 'rejected', type: 'endEvent', terminate: true, result: 'rejected' },
      { id: 'small_task', type: 'userTask', kind: 'task', mode: 'single', assignees: [{ type: 'field', field: 'owner_id' }], due: { duration: 'PT1H' } },
      { id: 'pause', type: 'timerEvent', timer: { duration: 'PT15M' } },
      { id: 'small_end', type: 'endEvent', result: 'done' },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'classify', waypoints: [{ x: 136, y: 118 }, { x: 200, y: 118 }] },
      { id: 'e2', source: 'classify', target: 'split' },
      { id: 'e_large', source: 'split', target: 'finance_review', name: { en: 'large' }, condition: { '==': [{ var: '$vars.level' }, 'high'] } },
      { id: 'e_small', source: 'split', target: 'small_task' },
      { id: 'e_approved', source: 'finance_review', target: 'fork', outcome: 'approved' },
      { id: 'e_rejected', source: 'finance_review', target: 'rejected', outcome: 'rejected' },
      { id: 'e_sla', source: 'sla', target: 'remind' },
      { id: 'e_remind', source: 'remind', target: 'remind_end' },
      { id: 'e_f1', source: 'fork', target: 'mark' },
      { id: 'e_f2', source: 'fork', target: 'log' },
      { id: 'e_j1', source: 'mark', target: 'join' },
      { id: 'e_j2', source: 'log', target: 'join' },
      { id: 'e_q', source: 'join', target: 'query' },
      { id: 'e_h', source: 'query', target: 'hook' },
      { id: 'e_w', source: 'hook', target: 'wait' },
      { id: 'e_m', source: 'wait', target: 'mail' },
      { id: 'e_d', source: 'mail', target: 'done' },
      { id: 'e_s1', source: 'small_task', target: 'pause' },
      { id: 'e_s2', source: 'pause', target: 'small_end' },
    ],
  };
}
