import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { REDACTED, escapeHtml, markdownTable, redactValue, renderTable } from '../../src/core/index.js'

/**
 * Random nested documents with shared references and planted secrets of every supported shape.
 * Each string is built from parts that know their redacted form, so the expected document is
 * known exactly: the redacted output must equal it (secrets gone, nothing else changed), and
 * every renderer's output must parse back to it.
 */
type Part = { raw: string; expected: string }
type Template = { kind: 'text'; parts: Part[] } | { kind: 'scalar'; value: number | boolean | null } | Template[] | TemplateObject
interface TemplateObject {
  kind: 'object'
  entries: Array<[string, Template | { kind: 'secretKey'; secret: string }]>
}

const secret = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{10,20}[0-9]$/)
const safeWord = fc.constantFrom('alpha', 'orders', 'checkout', 'latency', 'p99', 'rollback', 'db', 'cache', 'ok', 'x1', 'the', 'request')
const punctuation = fc.constantFrom('"', ')', '(', '|', '<b>', '&', '*', '_', '#', ',', ':', ';', '{', '}', '[', ']', '`', "'", '\\', '-')
const before = fc.constantFrom(' ', '(', '"', '{', '[', '')
const after = fc.constantFrom(' ', '"', ')', ',', ';', '}', ']', '<', '')

/** Every shape redaction promises to catch, with what it must become. */
const plantedShapes: Array<(s: string) => Part> = [
  (s) => ({ raw: `postgres://app:${s}@db:5432/app`, expected: `postgres://app:${REDACTED}@db:5432/app` }),
  (s) => ({ raw: `Authorization: Bearer ${s}`, expected: `Authorization: Bearer ${REDACTED}` }),
  (s) => ({ raw: `authorization: bearer ${s}`, expected: `authorization: bearer ${REDACTED}` }),
  (s) => ({ raw: `Basic ${s}`, expected: `Basic ${REDACTED}` }),
  (s) => ({ raw: `password=${s}`, expected: `password=${REDACTED}` }),
  (s) => ({ raw: `api_key: ${s}`, expected: `api_key: ${REDACTED}` }),
  (s) => ({ raw: `{"password": "${s}"}`, expected: `{"password": "${REDACTED}"}` }),
  (s) => ({ raw: `'token': '${s}'`, expected: `'token': '${REDACTED}'` }),
  (s) => ({ raw: `https://hooks.example/cb?token=${s}&page=2`, expected: `https://hooks.example/cb?token=${REDACTED}&page=2` }),
  (s) => ({ raw: `--password ${s}`, expected: `--password ${REDACTED}` }),
  (s) => ({ raw: `--api-key=${s}`, expected: `--api-key=${REDACTED}` }),
  (s) => ({ raw: `mysql -uroot -p${s} shop`, expected: `mysql -uroot -p${REDACTED} shop` }),
]

const safePart: fc.Arbitrary<Part> = fc.oneof(safeWord, punctuation).map((text) => ({ raw: text, expected: text }))
const plantedPart: fc.Arbitrary<Part> = fc
  .tuple(fc.integer({ min: 0, max: plantedShapes.length - 1 }), secret, before, after)
  .map(([shape, s, pre, post]) => {
    const part = plantedShapes[shape]!(s)
    return { raw: `${pre}${part.raw}${post}`, expected: `${pre}${part.expected}${post}` }
  })
// safe parts are joined by spaces so that no two of them fuse into something that looks like a secret
const text: fc.Arbitrary<Template> = fc
  .array(fc.oneof({ weight: 3, arbitrary: safePart }, { weight: 1, arbitrary: plantedPart }), { minLength: 1, maxLength: 5 })
  .map((parts) => ({
    kind: 'text' as const,
    parts: parts.flatMap((part, i) => (i === 0 ? [part] : [{ raw: ' ', expected: ' ' }, part])),
  }))
const scalar: fc.Arbitrary<Template> = fc
  .oneof(fc.integer(), fc.boolean(), fc.constant(null))
  .map((value) => ({ kind: 'scalar' as const, value }))
const key = fc.constantFrom('name', 'summary', 'from', 'to', 'points', 'events', 'note', 'detail')
const secretKey = fc.constantFrom('password', 'apiKey', 'token', 'client_secret', 'authorization')

const { tree } = fc.letrec<{ tree: Template; node: Template }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, scalar, tie('node')),
  node: fc.oneof(
    fc.array(tie('tree'), { maxLength: 4 }),
    fc
      .array(
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(key, tie('tree')) },
          {
            weight: 1,
            arbitrary: fc.tuple(
              secretKey,
              secret.map((s) => ({ kind: 'secretKey' as const, secret: s })),
            ),
          },
        ),
        { maxLength: 4 },
      )
      .map((entries) => ({ kind: 'object' as const, entries: dedupeKeys(entries as TemplateObject['entries']) })),
  ),
}))

function dedupeKeys<T>(entries: Array<[string, T]>): Array<[string, T]> {
  const seen = new Set<string>()
  return entries.filter(([name]) => !seen.has(name) && seen.add(name))
}

/** Builds the raw and the expected document, sharing subtrees the same way in both. */
function materialize(template: Template, side: 'raw' | 'expected', cache = new Map<Template, unknown>()): unknown {
  if (cache.has(template)) return cache.get(template)
  let value: unknown
  if (Array.isArray(template)) value = template.map((item) => materialize(item, side, cache))
  else if (template.kind === 'text') value = template.parts.map((part) => part[side]).join('')
  else if (template.kind === 'scalar') value = template.value
  else
    value = Object.fromEntries(
      template.entries.map(([name, item]) => [
        name,
        'kind' in item && item.kind === 'secretKey'
          ? side === 'raw'
            ? item.secret
            : REDACTED
          : materialize(item as Template, side, cache),
      ]),
    )
  cache.set(template, value)
  return value
}

/** A document in which the same subtree is reached several times (not a cycle). */
const document = fc.tuple(tree, tree).map(([shared, other]) => ({
  kind: 'object' as const,
  entries: [
    ['first', shared],
    ['list', [shared, other, shared]],
    ['nested', { kind: 'object' as const, entries: [['again', shared]] }],
  ] as TemplateObject['entries'],
}))

function secretsOf(template: Template): string[] {
  if (Array.isArray(template)) return template.flatMap(secretsOf)
  if (template.kind === 'text') return template.parts.filter((part) => part.raw !== part.expected).map((part) => part.raw)
  if (template.kind === 'scalar') return []
  return template.entries.flatMap(([, item]) => ('kind' in item && item.kind === 'secretKey' ? [item.secret] : secretsOf(item as Template)))
}

/** Rows of (path, value) for the table renderers. */
function flatten(value: unknown, path = '$'): Array<[string, string]> {
  if (value === null || typeof value !== 'object') return [[path, JSON.stringify(value)]]
  if (Array.isArray(value)) return value.flatMap((item, i) => flatten(item, `${path}[${i}]`))
  return Object.entries(value).flatMap(([name, item]) => flatten(item, `${path}.${name}`))
}

function renderHtml(value: unknown): string {
  if (value === null || typeof value !== 'object') return `<span>${escapeHtml(JSON.stringify(value))}</span>`
  if (Array.isArray(value)) return `<ol>${value.map((item) => `<li>${renderHtml(item)}</li>`).join('')}</ol>`
  return `<dl>${Object.entries(value)
    .map(([name, item]) => `<dt>${escapeHtml(name)}</dt><dd>${renderHtml(item)}</dd>`)
    .join('')}</dl>`
}

/** A strict reader of what renderHtml writes: unbalanced tags or a stray `<`, `>` or `&` throw. */
function parseHtml(html: string): unknown {
  let at = 0
  const expectTag = (tag: string) => {
    if (!html.startsWith(tag, at)) throw new Error(`expected ${tag} at ${at}: ${html.slice(at, at + 30)}`)
    at += tag.length
  }
  const textUntil = (close: string) => {
    const end = html.indexOf(close, at)
    if (end < 0) throw new Error(`unclosed before ${close}`)
    const raw = html.slice(at, end)
    if (/[<>"']|&(?!(amp|lt|gt|quot|#39);)/.test(raw)) throw new Error(`unescaped text: ${raw}`)
    at = end
    return raw.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!)
  }
  const value = (): unknown => {
    if (html.startsWith('<span>', at)) {
      expectTag('<span>')
      const parsed = JSON.parse(textUntil('</span>'))
      expectTag('</span>')
      return parsed
    }
    if (html.startsWith('<ol>', at)) {
      expectTag('<ol>')
      const items: unknown[] = []
      while (html.startsWith('<li>', at)) {
        expectTag('<li>')
        items.push(value())
        expectTag('</li>')
      }
      expectTag('</ol>')
      return items
    }
    expectTag('<dl>')
    const out: Record<string, unknown> = {}
    while (html.startsWith('<dt>', at)) {
      expectTag('<dt>')
      const name = textUntil('</dt>')
      expectTag('</dt>')
      expectTag('<dd>')
      out[name] = value()
      expectTag('</dd>')
    }
    expectTag('</dl>')
    return out
  }
  const parsed = value()
  if (at !== html.length) throw new Error(`trailing text at ${at}`)
  return parsed
}

/** Reads a markdownTable back: cells split at unescaped pipes, escapes undone. */
function parseMarkdownTable(markdown: string): string[][] {
  const [, separator, ...rows] = markdown.split('\n')
  expect(separator).toMatch(/^\|( --- \|)+$/)
  return rows.map((row) => {
    expect(row.startsWith('| ') && row.endsWith(' |')).toBe(true)
    const cells = row.slice(2, -2).split(/(?<!\\) \| /)
    return cells.map((cell) => (cell === ' ' ? '' : cell.replace(/&amp;(?=#?[a-z0-9]+;)/gi, '&').replace(/\\(.)/g, '$1')))
  })
}

const runs = { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) }

describe('redaction never changes what it does not redact (property)', () => {
  it('redactValue removes every planted secret and changes nothing else, shared references included', () => {
    fc.assert(
      fc.property(document, (template) => {
        const raw = materialize(template, 'raw')
        const redacted = redactValue(raw)
        expect(redacted).toEqual(materialize(template, 'expected'))
        const json = JSON.stringify(redacted)
        for (const planted of secretsOf(template)) expect(json).not.toContain(planted.match(/[A-Za-z][A-Za-z0-9]{10,20}[0-9]/)![0])
      }),
      runs,
    )
  })

  it('JSON: the document parses back and equals the expected one', () => {
    fc.assert(
      fc.property(document, (template) => {
        const out = JSON.stringify(redactValue(materialize(template, 'raw')), null, 2)
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(materialize(template, 'expected'))))
      }),
      runs,
    )
  })

  it('Markdown: the table keeps its columns and every cell reads back', () => {
    fc.assert(
      fc.property(document, (template) => {
        const rows = flatten(redactValue(materialize(template, 'raw')))
        const parsed = parseMarkdownTable(markdownTable(['path', 'value'], rows))
        expect(parsed).toEqual(flatten(materialize(template, 'expected')).map(([path, value]) => [path, value]))
      }),
      runs,
    )
  })

  it('HTML: tags balance, nothing is unescaped, and the document reads back', () => {
    fc.assert(
      fc.property(document, (template) => {
        const html = renderHtml(redactValue(materialize(template, 'raw')))
        expect(parseHtml(html)).toEqual(JSON.parse(JSON.stringify(materialize(template, 'expected'))))
      }),
      runs,
    )
  })

  it('text: every expected value is printed and no secret is', () => {
    fc.assert(
      fc.property(document, (template) => {
        const rows = flatten(redactValue(materialize(template, 'raw'))).map(([path, value]) => ({ path, value }))
        const table = renderTable(rows, [
          { header: 'PATH', value: (row) => row.path },
          { header: 'VALUE', value: (row) => row.value },
        ])
        for (const [, value] of flatten(materialize(template, 'expected'))) expect(table).toContain(value)
        for (const planted of secretsOf(template)) expect(table).not.toContain(planted.match(/[A-Za-z][A-Za-z0-9]{10,20}[0-9]/)![0])
      }),
      runs,
    )
  })

  it('a true cycle is still cut, once, where it closes', () => {
    const node: Record<string, unknown> = { name: 'a' }
    node.children = [{ parent: node }]
    expect(redactValue(node)).toEqual({ name: 'a', children: [{ parent: '[circular]' }] })
  })
})
