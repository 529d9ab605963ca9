import { describe, expect, it } from 'vitest'
import { buildPostmortem, renderHtml, renderMarkdown, renderPostmortem, replayIncidents, type Postmortem } from './internals.js'
import { timeline } from './fixtures.js'

const MINUTE = 60_000
const { event, incident } = timeline('2026-11-25T14:00:00.000Z')
const id = 'INC-20261125-AAAA'
const inc = incident(id)

/** Impact at 13:50; a deploy at 13:40, a failed canary and its rollback, a flag kill; another incident's note. */
function scripted(): Postmortem {
  const incidentEvents = [
    inc.opened(0, { service: 'api', commander: 'alice', impactStartedAt: '2026-11-25T13:50:00Z' }),
    inc.ack(4, 'bob'),
    inc.note(6, 'Canary rolled back; errors still up\nTODO(dave): make the canary judge fail faster', 'carol'),
    inc.mitigated(11, 'killed checkout.new-flow'),
    inc.resolved(40, 'fixed the serializer'),
  ]
  const journal = [
    event(-25, { kind: 'deploy.started', data: { version: 'v42', strategy: 'canary' } }, 'ci'),
    event(-8, { kind: 'deploy.verdict', data: { verdict: 'fail', reason: 'error rate 4.1% vs 0.2%' } }, 'ci'),
    event(-7, { kind: 'deploy.rollback', data: { reason: 'canary failed', to: 'v41' } }, 'ci'),
    event(
      10,
      { kind: 'flag.changed', subject: 'checkout.new-flow', data: { flag: 'checkout.new-flow', change: 'killed', reason: 'still 5xx' } },
      'bob',
    ),
    event(12, { kind: 'incident.note', subject: 'INC-OTHER', data: { message: 'other incident' }, links: { incident: 'INC-OTHER' } }),
    event(15, { kind: 'load.run', data: { scenario: 'smoke', p99Ms: 180 } }, 'bob'),
  ]
  const [state] = replayIncidents(incidentEvents).incidents
  return buildPostmortem(state!, [...incidentEvents, ...journal], { generatedAt: '2026-11-25T15:00:00.000Z', leadInMs: 30 * MINUTE })
}

describe('the post-mortem', () => {
  const pm = scripted()

  it('has the timeline of incident and journal events in order, with the rollback and the flag kill', () => {
    expect(pm.timeline.map((entry) => [entry.at.slice(11, 16), entry.kind, entry.highlight ?? ''])).toEqual([
      ['13:35', 'deploy.started', 'deploy'],
      ['13:50', 'impact', ''],
      ['13:52', 'deploy.verdict', 'canary failed'],
      ['13:53', 'deploy.rollback', 'rollback'],
      ['14:00', 'incident.opened', ''],
      ['14:04', 'incident.acknowledged', ''],
      ['14:06', 'incident.note', ''],
      ['14:10', 'flag.changed', 'flag kill'],
      ['14:11', 'incident.mitigated', ''],
      ['14:15', 'load.run', ''],
      ['14:40', 'incident.resolved', ''],
    ])
    expect(pm.timeline.find((entry) => entry.kind === 'deploy.started')!.offsetMs).toBe(-15 * MINUTE)
  })

  it("words the incident's events as the journal does, whole, with the commander and who acknowledged", () => {
    expect(pm.timeline.filter((entry) => entry.kind.startsWith('incident.')).map((entry) => entry.summary)).toEqual([
      'declared SEV2: Checkout errors (commander alice)',
      'acknowledged by bob',
      'note: Canary rolled back; errors still up\nTODO(dave): make the canary judge fail faster',
      'mitigated: killed checkout.new-flow',
      'resolved: fixed the serializer',
    ])
  })

  it('computes the figures from the timestamps', () => {
    expect(Object.fromEntries(pm.metrics.map((metric) => [metric.name, metric.ms! / MINUTE]))).toEqual({
      timeToDetect: 10,
      timeToAcknowledge: 4,
      timeToMitigate: 21,
      timeToRecover: 50,
    })
  })

  it('states facts, names candidates without concluding, and leaves the rest to people', () => {
    expect(pm.sections.contributingFactors.intro).toMatch(/candidates to examine, not conclusions/)
    // The rollback and the flag kill mitigated: they are the response (Resolution), not suspects; the failed canary is a signal.
    expect(pm.sections.contributingFactors.facts).toEqual([
      '2026-11-25T13:35:00Z deploy: deploy.started api — rollout of v42 by canary (ci)',
    ])
    expect(pm.sections.detection.facts).toContain('canary failed at 2026-11-25T13:52:00Z: fail: error rate 4.1% vs 0.2% (ci).')
    expect(pm.sections.trigger.facts).toEqual([
      'The last change recorded before the impact started: deploy.started api — rollout of v42 by canary, at 2026-11-25T13:35:00Z (15m 00s before).',
    ])
    expect(pm.sections.resolution.facts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rollback at 2026-11-25T13:53:00Z by ci/),
        expect.stringMatching(/^flag kill at 2026-11-25T14:10:00Z by bob/),
      ]),
    )
    for (const key of [
      'summary',
      'impact',
      'contributingFactors',
      'trigger',
      'detection',
      'resolution',
      'wentWell',
      'wentBadly',
      'gotLucky',
    ] as const) {
      expect(pm.sections[key].toBeWritten, key).toBeTruthy()
    }
    expect(pm.sections.wentWell.facts).toEqual([])
    expect(pm.sections.gotLucky.facts).toEqual([])
  })

  it('lists action items with owners, and responders with roles', () => {
    expect(pm.actionItems.map((item) => [item.text, item.owner])).toEqual([['make the canary judge fail faster', 'dave']])
    expect(pm.responders.map((responder) => [responder.person, responder.roles.join(','), responder.events])).toEqual([
      ['alice', 'commander', 1],
      ['bob', '', 3],
      ['carol', '', 1],
    ])
  })

  it('renders every section in Markdown, with the prompts marked', () => {
    const md = renderPostmortem(pm, 'md')
    for (const heading of [
      'Summary',
      'Impact',
      'Severity',
      'Response figures',
      'Responders',
      'Contributing factors',
      'Trigger',
      'Detection',
      'Resolution',
      'Lessons learned',
      'Action items',
      'Timeline',
    ]) {
      expect(md).toContain(`\n## ${heading}\n`)
    }
    for (const heading of ['What went well', 'What went badly', 'Where we got lucky']) expect(md).toContain(`\n### ${heading}\n`)
    expect(md).toContain('> _To be written: Where we got lucky')
    expect(md).toContain('| Time to acknowledge | 4m 00s | declaration, 2026-11-25T14:00:00Z | acknowledgement, 2026-11-25T14:04:00Z |')
    expect(md.indexOf('**rollback:**')).toBeLessThan(md.indexOf('**flag kill:**'))
  })

  it('keeps the lines of a note, and introduces the candidates with a sentence, not a bullet', () => {
    const md = renderPostmortem(pm, 'md')
    expect(md).toContain('note: Canary rolled back; errors still up<br>TODO(dave): make the canary judge fail faster |')
    expect(md).toContain(
      "## Contributing factors\n\nChanges recorded in the journal in the incident's window (candidates to examine, not conclusions):\n\n- 2026-11-25T13:35:00Z deploy:",
    )
    expect(md.slice(md.indexOf('## Contributing factors'), md.indexOf('## Trigger'))).not.toContain('rollback')
    const text = renderPostmortem(pm, 'text')
    expect(text).toContain('note: Canary rolled back; errors still up\n')
    expect(text).toMatch(/\n {6}What: TODO\(dave\): make the canary judge fail faster\n/)
  })

  it('renders JSON that reads back to the same model', () => {
    expect(JSON.parse(renderPostmortem(pm, 'json'))).toEqual(JSON.parse(JSON.stringify(pm)))
  })
})

describe('escaping', () => {
  const hostile = '<script>alert(1)</script> **bold** [link](javascript:x) | pipe `code` &amp; _x_'

  it('keeps hostile text literal in Markdown', () => {
    const md = renderMarkdown([
      { type: 'paragraph', content: [hostile] },
      { type: 'table', header: ['a'], rows: [[[hostile]]] },
      { type: 'paragraph', content: ['# not a heading'] },
      { type: 'list', items: [[{ code: 'a ` b | c' }]] },
    ])
    expect(md).toContain(
      '\\<script\\>alert(1)\\</script\\> \\*\\*bold\\*\\* \\[link\\](javascript:x) \\| pipe \\`code\\` &amp;amp; \\_x\\_',
    )
    expect(md).toContain('\\# not a heading')
    expect(md).toContain('``a ` b \\| c``')
  })

  it('escapes everything in HTML, with a CSP that forbids scripts', () => {
    const html = renderHtml(
      [
        { type: 'heading', level: 1, text: hostile },
        { type: 'prompt', text: '"quoted" \'x\'' },
      ],
      '</title><script>',
    )
    expect(html).not.toMatch(/<script>/)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&quot;quoted&quot; &#39;x&#39;')
    expect(html).toContain("default-src 'none'")
  })

  it('a whole post-mortem of an incident with a hostile title stays inert in HTML', () => {
    const [state] = replayIncidents([
      inc.opened(0, { title: '<img src=x onerror=alert(1)>' }),
      inc.note(1, 'TODO(<b>eve</b>): <iframe>'),
    ]).incidents
    const html = renderPostmortem(buildPostmortem(state!, [], { generatedAt: '2026-11-25T15:00:00.000Z', leadInMs: 0 }), 'html')
    expect(html).not.toMatch(/<(img|iframe|b)\b/)
  })
})
