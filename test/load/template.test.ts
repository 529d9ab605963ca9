import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../src/core/index.js'
import {
  checkBody,
  jsonBodyTemplate,
  parseJsonPath,
  parseTemplate,
  renderTemplate,
  variableSource,
  type Template,
} from '../../src/load/template.js'
import { compileRequest, chooseByWeight, cumulativeWeights, type RequestSpec, type Target } from '../../src/load/plan.js'
import { parseCsv } from '../../src/load/csv.js'

function template(text: string, encoding: 'uri' | 'raw' = 'raw', known?: string[]): Template {
  const parsed = parseTemplate(text, encoding, known ? new Set(known) : undefined)
  if (!parsed.ok) throw new Error(parsed.reason)
  return parsed.template
}

const target: Target = {
  url: 'http://127.0.0.1:3000',
  protocol: 'http:',
  host: '127.0.0.1:3000',
  address: '127.0.0.1',
  port: 3000,
  basePath: '',
}

describe('templates', () => {
  it('substitutes variables into a path, encoding them', () => {
    expect(renderTemplate(template('/users/{{ id }}/orders?sku={{sku}}', 'uri'), { id: 42, sku: 'A B/C' })).toBe(
      '/users/42/orders?sku=A%20B%2FC',
    )
  })

  it('reports an unknown variable and an unclosed brace with their column', () => {
    expect(parseTemplate('/users/{{userid}}', 'uri', new Set(['userId']))).toEqual({
      ok: false,
      column: 10,
      reason: 'unknown variable "userid"; this request defines userId',
    })
    expect(parseTemplate('/a/{{id', 'uri')).toMatchObject({ ok: false, column: 4 })
    expect(parseTemplate('/a/{{ 1x }}', 'uri')).toMatchObject({
      ok: false,
      column: 6,
      reason: expect.stringMatching(/not a variable name/),
    })
    expect(parseTemplate('{{__proto__}}', 'raw')).toMatchObject({ ok: false })
  })

  it('keeps a JSON body typed: a lone variable stays a number, embedded ones are escaped', () => {
    const parsed = jsonBodyTemplate(
      { userId: '{{id}}', note: 'say "{{word}}"', items: [{ sku: '{{word}}', quantity: 2 }], gift: false },
      new Set(['id', 'word']),
    )
    if (!parsed.ok) throw new Error(parsed.reason)
    const body = renderTemplate(parsed.template, { id: 7, word: 'a"b' })
    expect(JSON.parse(body)).toEqual({ userId: 7, note: 'say "a"b"', items: [{ sku: 'a"b', quantity: 2 }], gift: false })
  })

  it('names the place of an unknown variable inside a JSON body', () => {
    expect(jsonBodyTemplate({ items: [{ sku: 'x-{{sku}}' }] }, new Set())).toMatchObject({
      ok: false,
      path: ['items', 0, 'sku'],
      column: 5,
    })
  })
})

describe('variables', () => {
  it('draws random integers in the range, the same ones for the same seed', () => {
    const draw = (seed: number) => {
      const next = variableSource({ kind: 'random', min: 3, max: 7 }, { random: seededRandom(seed), thread: 0, threads: 1 })
      return Array.from({ length: 200 }, next)
    }
    const values = draw(1)
    expect(Math.min(...(values as number[]))).toBe(3)
    expect(Math.max(...(values as number[]))).toBe(7)
    expect(draw(1)).toEqual(values)
    expect(draw(2)).not.toEqual(values)
  })

  it('counts without collisions across threads', () => {
    const seen = new Set<string | number>()
    for (let thread = 0; thread < 3; thread++) {
      const next = variableSource({ kind: 'counter', start: 100, step: 2 }, { random: Math.random, thread, threads: 3 })
      for (let i = 0; i < 10; i++) seen.add(next())
    }
    expect(seen.size).toBe(30)
    expect([...seen].sort((a, b) => Number(a) - Number(b)).slice(0, 3)).toEqual([100, 102, 104])
  })

  it('walks CSV values in order, interleaved between threads', () => {
    const spec = { kind: 'values' as const, values: ['a', 'b', 'c', 'd'], order: 'sequential' as const, source: 'x.csv' }
    const first = variableSource(spec, { random: Math.random, thread: 0, threads: 2 })
    const second = variableSource(spec, { random: Math.random, thread: 1, threads: 2 })
    expect([first(), first(), first()]).toEqual(['a', 'c', 'a'])
    expect([second(), second()]).toEqual(['b', 'd'])
  })
})

describe('requests', () => {
  const spec = (overrides: Partial<RequestSpec> = {}): RequestSpec => ({
    name: 'r',
    weight: 1,
    method: 'GET',
    path: template('/x'),
    headers: [],
    variables: {},
    expect: {},
    ...overrides,
  })

  it('builds the bytes once for a request without variables', () => {
    const compiled = compileRequest(spec({ headers: [{ name: 'accept', value: template('application/json') }] }), target)
    expect(compiled.fixed?.toString()).toBe(
      'GET /x HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nConnection: keep-alive\r\naccept: application/json\r\n\r\n',
    )
  })

  it('builds a body with its length, under the base path', () => {
    const compiled = compileRequest(
      spec({ method: 'POST', path: template('/o/{{id}}', 'uri', ['id']), body: template('{"id":{{id}}}', 'raw', ['id']) }),
      { ...target, basePath: '/api' },
    )
    expect(compiled.fixed).toBeUndefined()
    expect(compiled.build({ id: 12 }).toString()).toBe(
      'POST /api/o/12 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nConnection: keep-alive\r\nContent-Length: 9\r\n\r\n{"id":12}',
    )
  })

  it('chooses requests in proportion to their weights', () => {
    const weights = cumulativeWeights([spec({ weight: 3 }), spec({ weight: 1 })])
    const random = seededRandom(5)
    const counts = [0, 0]
    for (let i = 0; i < 40_000; i++) counts[chooseByWeight(weights, random())]!++
    expect(counts[0]! / 40_000).toBeCloseTo(0.75, 1)
    expect(chooseByWeight(weights, 0)).toBe(0)
    expect(chooseByWeight(weights, 0.99999)).toBe(1)
  })
})

describe('body checks', () => {
  const path = (text: string) => {
    const parsed = parseJsonPath(text)
    if (!parsed.ok) throw new Error(parsed.reason)
    return parsed.path
  }

  it('reads JSON paths in the usual spellings', () => {
    expect(path('$.orders[0].id')).toEqual(['orders', 0, 'id'])
    expect(path('orders.0.id')).toEqual(['orders', 0, 'id'])
    expect(path('$["user id"]')).toEqual(['user id'])
    expect(path('$')).toEqual([])
    expect(parseJsonPath('$.a[x]')).toMatchObject({ ok: false, column: 4 })
    expect(parseJsonPath('$a')).toMatchObject({ ok: false, column: 2 })
  })

  it('passes a matching body and says why another fails', () => {
    const expectation = { json: { path: path('$.userId'), pathText: '$.userId', equals: '{{id}}' } }
    expect(checkBody('{"userId":5,"orders":[]}', expectation, { id: 5 })).toBeUndefined()
    expect(checkBody('{"userId":6}', expectation, { id: 5 })).toBe('$.userId is 6, expected 5')
    expect(checkBody('{"user":5}', expectation, { id: 5 })).toBe('$.userId is missing')
    expect(checkBody('<html>', expectation, { id: 5 })).toBe('body is not JSON')
    expect(checkBody('hello world', { contains: template('world') }, {})).toBeUndefined()
    expect(checkBody('hello', { contains: template('world') }, {})).toBe('body does not contain "world"')
  })
})

describe('CSV', () => {
  it('reads quoted fields, doubled quotes, CRLF and a BOM', () => {
    const table = parseCsv('\ufeffsku,name\r\n"A,1","say ""hi"""\r\nB-2,plain\r\n\r\n')
    expect(table).toEqual({
      ok: true,
      header: ['sku', 'name'],
      rows: [
        ['A,1', 'say "hi"'],
        ['B-2', 'plain'],
      ],
    })
  })

  it('reads a last row without a newline and quoted newlines', () => {
    expect(parseCsv('a\n"x\ny"\nz')).toEqual({ ok: true, header: ['a'], rows: [['x\ny'], ['z']] })
  })

  it('says where a malformed file goes wrong', () => {
    expect(parseCsv('a\n"open')).toEqual({ ok: false, line: 2, reason: 'a quoted field is never closed' })
    expect(parseCsv('a\nx"y')).toMatchObject({ ok: false, line: 2 })
    expect(parseCsv('a\n"x"y')).toMatchObject({ ok: false, line: 2, reason: 'text after a closing quote' })
    expect(parseCsv('')).toMatchObject({ ok: false, reason: expect.stringMatching(/empty/) })
  })
})
