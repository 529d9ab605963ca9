/**
 * The post-mortem model (postmortem-model.ts) as a document: Markdown, HTML, plain text, or JSON.
 * Given redacted data; each format escapes for itself (document.ts, JSON.stringify), so nothing
 * ever rewrites a finished document.
 */
import { renderHtml, renderMarkdown, renderText, type Block, type Inline } from './document.js'
import { formatSpan } from './metrics.js'
import { iso, type Postmortem, type PostmortemSection } from './postmortem-model.js'
import { alertInstance } from './timeline.js'

export const POSTMORTEM_FORMATS = ['md', 'json', 'html', 'text'] as const
export type PostmortemFormat = (typeof POSTMORTEM_FORMATS)[number]

export function renderPostmortem(postmortem: Postmortem, format: PostmortemFormat): string {
  if (format === 'json') return `${JSON.stringify(postmortem, null, 2)}\n`
  const blocks = postmortemBlocks(postmortem)
  if (format === 'html') return renderHtml(blocks, postmortemTitle(postmortem))
  return format === 'text' ? renderText(blocks) : renderMarkdown(blocks)
}

export function postmortemTitle(postmortem: Postmortem): string {
  return `Post-mortem: ${postmortem.incident.id} — ${postmortem.incident.title}`
}

function signedSpan(ms: number): string {
  if (ms === 0) return '0s'
  return ms > 0 ? `+${formatSpan(ms)}` : formatSpan(ms)
}

const notRecorded: Inline = { em: 'not recorded' }

export function postmortemBlocks(pm: Postmortem): Block[] {
  const blocks: Block[] = []
  const heading = (text: string, level: 2 | 3 = 2) => blocks.push({ type: 'heading', level, text })
  const facts = (value: PostmortemSection) => {
    if (value.intro) blocks.push({ type: 'paragraph', content: [value.intro] })
    if (value.facts.length === 1 && !value.intro) blocks.push({ type: 'paragraph', content: [value.facts[0]!] })
    else if (value.facts.length > 0) blocks.push({ type: 'list', items: value.facts.map((fact) => [fact]) })
    if (value.toBeWritten) blocks.push({ type: 'prompt', text: value.toBeWritten })
  }
  const section = (title: string, value: PostmortemSection) => {
    heading(title)
    facts(value)
  }
  const { incident } = pm

  blocks.push({ type: 'heading', level: 1, text: postmortemTitle(pm) })
  blocks.push({
    type: 'paragraph',
    content: [
      {
        em: `Blameless post-mortem drafted by opsctl from the ops journal at ${iso(pm.generatedAt)}. Facts and figures come from recorded events; the parts marked "To be written" are for the people who were there. Times are UTC.`,
      },
    ],
  })
  blocks.push({
    type: 'table',
    header: ['', ''],
    rows: [
      [[{ strong: 'Incident' }], [{ code: incident.id }]],
      [[{ strong: 'Severity' }], [pm.severity ? `${pm.severity.severity} (${pm.severity.name})` : incident.severity]],
      [[{ strong: 'Service' }], [incident.service ?? notRecorded]],
      [[{ strong: 'Status' }], [incident.status]],
      [[{ strong: 'Declared' }], [`${iso(incident.openedAt)} by ${incident.openedBy}`]],
      [[{ strong: 'Commander' }], [pm.responders.find((responder) => responder.roles.includes('commander'))?.person ?? notRecorded]],
      ...(incident.alertmanagerUrl ? [[[{ strong: 'Alertmanager' }], [incident.alertmanagerUrl]]] : []),
      [[{ strong: 'Authors' }], [{ em: 'To be written' }]],
      [[{ strong: 'Review date' }], [{ em: 'To be written' }]],
    ] as Inline[][][],
  })

  section('Summary', pm.sections.summary)
  section('Impact', pm.sections.impact)

  heading('Severity')
  if (pm.severity)
    blocks.push({
      type: 'paragraph',
      content: [{ strong: `${pm.severity.severity} — ${pm.severity.name}.` }, ` ${pm.severity.definition} ${pm.severity.response}`],
    })
  else blocks.push({ type: 'paragraph', content: [`"${incident.severity}" is not one of SEV1 to SEV5.`] })
  if (pm.history.severity.length)
    blocks.push({
      type: 'table',
      header: ['Severity', 'Since', 'By', 'Why'],
      rows: pm.history.severity.map((change, index) => [
        [change.value],
        [iso(change.at)],
        [change.by],
        [change.reason ?? (index === 0 ? 'declared' : '')],
      ]),
    })
  const corrections = [
    ...pm.history.title
      .slice(1)
      .map(
        (change) =>
          `Retitled at ${iso(change.at)} by ${change.by}: "${change.from ?? ''}" → "${change.value}"${change.reason ? ` (${change.reason})` : ''}.`,
      ),
    ...pm.history.impactStart
      .filter((change) => change.eventId !== pm.history.title[0]?.eventId) // corrections, not the declaration's own
      .map(
        (change) =>
          `Impact start set to ${iso(change.value)}${change.from ? ` (was ${iso(change.from)})` : ''} at ${iso(change.at)} by ${change.by}${change.reason ? `: ${change.reason}` : ''}.`,
      ),
  ]
  if (corrections.length) blocks.push({ type: 'list', items: corrections.map((line) => [line]) })

  heading('Response figures')
  blocks.push({
    type: 'table',
    header: ['Figure', 'Value', 'From', 'To'],
    align: ['left', 'right', 'left', 'left'],
    rows: pm.metrics.map((metric) => [
      [metric.label],
      metric.ms === undefined ? [{ em: 'not known' }] : [formatSpan(metric.ms)],
      metric.from ? [`${metric.from.point}, ${iso(metric.from.at)}`] : [],
      metric.to ? [`${metric.to.point}, ${iso(metric.to.at)}`] : [metric.note ?? ''],
    ]),
  })
  blocks.push({
    type: 'list',
    items: pm.metrics.map((metric) => [
      { strong: metric.label },
      `: ${metric.definition}${metric.note && metric.ms !== undefined ? ` Here: ${metric.note}.` : ''}`,
    ]),
  })

  if (incident.alerts.length) {
    heading('Alerts')
    blocks.push({
      type: 'table',
      header: ['Alert', 'Status', 'Firing from', 'Resolved at', 'Summary'],
      rows: incident.alerts.map((alert) => {
        const instance = alertInstance(alert, incident.alerts)
        return [
          [alert.name, ...(instance ? [` (${instance})`] : [])],
          [alert.status],
          [alert.startsAt ? iso(alert.startsAt) : '—'],
          [alert.endsAt ? iso(alert.endsAt) : '—'],
          [alert.summary ?? ''],
        ]
      }),
    })
    blocks.push({
      type: 'list',
      items: incident.alerts.map((alert) => {
        const details = [
          `fingerprint ${alert.fingerprint}`,
          ...Object.entries(alert.labels ?? {}).map(([key, value]) => `${key}=${value}`),
        ].join(', ')
        const annotations = Object.entries(alert.annotations ?? {})
          .filter(([key]) => key !== 'summary')
          .map(([key, value]) => `${key}: ${value}`)
        const lines = [details, ...annotations, ...(alert.generatorURL ? [`generatorURL: ${alert.generatorURL}`] : [])]
        return [{ strong: alert.name }, ` — ${lines.join('\n')}`]
      }),
    })
  }

  heading('Responders')
  blocks.push({
    type: 'table',
    header: ['Person', 'Roles', 'First action', 'Events'],
    align: ['left', 'left', 'left', 'right'],
    rows: pm.responders.map((responder) => [
      [responder.person],
      [responder.roles.join(', ') || '—'],
      [responder.firstAt ? iso(responder.firstAt) : '—'],
      [String(responder.events)],
    ]),
  })

  section('Contributing factors', pm.sections.contributingFactors)
  section('Trigger', pm.sections.trigger)
  section('Detection', pm.sections.detection)
  section('Resolution', pm.sections.resolution)

  heading('Lessons learned')
  for (const [title, value] of [
    ['What went well', pm.sections.wentWell],
    ['What went badly', pm.sections.wentBadly],
    ['Where we got lucky', pm.sections.gotLucky],
  ] as const) {
    heading(title, 3)
    if (value.facts.length) blocks.push({ type: 'list', items: value.facts.map((fact) => [fact]) })
    if (value.toBeWritten) blocks.push({ type: 'prompt', text: value.toBeWritten })
  }

  heading('Action items')
  if (pm.actionItems.length) {
    blocks.push({
      type: 'table',
      header: ['Action', 'Type', 'Priority', 'Owner', 'Recorded', 'Ticket'],
      rows: pm.actionItems.map((item) => [
        [item.text],
        [item.type ?? { em: 'to be typed' }],
        [item.priority ?? { em: 'to be set' }],
        [item.owner ?? { em: 'to be assigned' }],
        [`${iso(item.at)} by ${item.by}`],
        [{ em: 'to be filed' }],
      ]),
    })
  } else
    blocks.push({
      type: 'paragraph',
      content: [
        'No action item was logged during the incident (a note line starting with TODO: or TODO(P1, prevent, owner): becomes one).',
      ],
    })
  blocks.push({
    type: 'prompt',
    text: 'The follow-ups agreed in the review, each with a type (mitigate, prevent, detect, process), a priority, an owner and a ticket.',
  })

  heading('Timeline')
  const origin = pm.metrics.find((metric) => metric.name === 'timeToDetect')?.from?.point ?? 'declaration'
  blocks.push({
    type: 'paragraph',
    content: [
      `Times in UTC; offsets from the ${origin === 'impact start' ? 'start of impact' : origin === 'alert startsAt' ? "first alert's startsAt" : 'declaration'}. Journal events from ${iso(pm.window.from)} (${formatSpan(pm.window.leadInMs)} before) to ${iso(pm.window.to)}; incident events whenever recorded.`,
    ],
  })
  blocks.push({
    type: 'table',
    header: ['Time', 'Offset', 'Event', 'Who', 'What'],
    align: ['left', 'right', 'left', 'left', 'left'],
    rows: pm.timeline.map((entry) => [
      [iso(entry.at)],
      [signedSpan(entry.offsetMs)],
      entry.source === 'derived' ? [{ em: entry.kind }] : [{ code: entry.kind }],
      [entry.actor || '—'],
      entry.highlight ? [{ strong: `${entry.highlight}:` }, ` ${entry.summary}`] : [entry.summary],
    ]),
  })
  if (pm.anomalies.length) {
    heading('Notes on the record')
    blocks.push({ type: 'list', items: pm.anomalies.map((anomaly) => [anomaly]) })
  }
  return blocks
}
