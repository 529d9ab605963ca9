import { describe, expect, it } from 'vitest'
import { globMatches, matchRunbooks, matchRunbooksByText, wordsOf, type RunbookMeta } from './internals.js'

const runbook = (id: string, meta: Partial<RunbookMeta>): RunbookMeta => ({
  id,
  title: id,
  symptoms: ['x'],
  alerts: [],
  severity: 'SEV3',
  owner: 'sre',
  tags: [],
  ...meta,
})

const library = [
  runbook('high-latency', { symptoms: ['high latency', 'p99 latency'], alerts: ['HighLatency*', 'HighRequestLatency*'] }),
  runbook('error-rate-spike', { symptoms: ['error rate', '5xx'], alerts: ['HighErrorRate*'] }),
  runbook('db-connection-exhaustion', { symptoms: ['too many connections', 'pool exhausted'], alerts: [] }),
  runbook('payments-only', { symptoms: ['high latency'], alerts: ['HighLatency*'], services: ['payments'] }),
]

describe('matching alerts to runbooks', () => {
  it('by alert name (globs), strongest first, saying why', () => {
    const matches = matchRunbooks([{ name: 'HighRequestLatency', service: 'api' }], library)
    expect(matches).toEqual([
      { id: 'high-latency', title: 'high-latency', score: 50, reasons: ['alert HighRequestLatency matches alerts: HighRequestLatency*'] },
    ])
  })

  it('by symptom: every word of one symptom in the alert name, summary or description', () => {
    const matches = matchRunbooks(
      [{ name: 'PostgresTooManyConnections', annotations: { description: 'remaining slots reserved' } }],
      library,
    )
    expect(matches.map((match) => [match.id, match.reasons])).toEqual([
      ['db-connection-exhaustion', ['alert PostgresTooManyConnections shows the symptom "too many connections"']],
    ])
  })

  it('by the runbook named in the alert annotation, above everything else', () => {
    const matches = matchRunbooks(
      [
        { name: 'Anything', annotations: { runbook_url: 'https://git.example.com/ops/runbooks/error-rate-spike.md#mitigation' } },
        { name: 'HighLatency' },
      ],
      library,
    )
    expect(matches.map((match) => [match.id, match.score])).toEqual([
      ['error-rate-spike', 100],
      ['high-latency', 50],
      ['payments-only', 50],
    ])
  })

  it('skips runbooks for other services when the alert names its service', () => {
    expect(matchRunbooks([{ name: 'HighLatency', service: 'api' }], library).map((match) => match.id)).toEqual(['high-latency'])
    expect(matchRunbooks([{ name: 'HighLatency', service: 'payments' }], library).map((match) => match.id)).toEqual([
      'high-latency',
      'payments-only',
    ])
  })

  it('matches nothing rather than guessing', () => {
    expect(matchRunbooks([{ name: 'DiskFull', annotations: { summary: 'disk at 95%' } }], library)).toEqual([])
  })

  it('matches a title typed by hand against the symptoms', () => {
    expect(
      matchRunbooksByText('Checkout: error rate above 5% and 5xx on /pay', 'api', library).map((match) => [match.id, match.score]),
    ).toEqual([['error-rate-spike', 20]])
  })
})

describe('words and globs', () => {
  it('split camelCase and drop a plural s', () => {
    expect([...wordsOf('KubePodCrashLooping HTTPErrors too many connections')]).toEqual([
      'kube',
      'pod',
      'crash',
      'looping',
      'http',
      'error',
      'too',
      'many',
      'connection',
    ])
  })

  it('glob with * only, case-insensitive, anchored', () => {
    expect(globMatches('HighLatency*', 'highlatencyP99')).toBe(true)
    expect(globMatches('*Latency', 'HighLatencyP99')).toBe(false)
    expect(globMatches('a.b(c)', 'a.b(c)')).toBe(true)
    expect(globMatches('a.b', 'axb')).toBe(false)
  })
})
