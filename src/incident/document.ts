/**
 * A small document model for the post-mortem, rendered to Markdown, HTML and plain text. Every
 * piece of text is escaped for its target: titles, notes and alert summaries come from people and
 * payloads, and nothing in them may turn into markup, links, script, a broken table or a terminal
 * escape. Text with line breaks keeps them (`<br>` in Markdown and HTML, indented lines in text).
 * Renderers are given redacted data; none of them rewrites a finished document.
 */
import { escapeHtml, escapeMarkdown } from '../core/index.js'

export type Inline = string | { strong: string } | { em: string } | { code: string }

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3; text: string }
  | { type: 'paragraph'; content: Inline[] }
  | { type: 'list'; items: Inline[][] }
  | { type: 'table'; header: string[]; rows: Inline[][][]; align?: Array<'left' | 'right'> }
  /** Something only the team can write: `> _To be written: ..._` */
  | { type: 'prompt'; text: string }

// --- Markdown ------------------------------------------------------------------------------

export function renderMarkdown(blocks: readonly Block[]): string {
  const out: string[] = []
  for (const block of blocks) {
    switch (block.type) {
      case 'heading':
        out.push(`${'#'.repeat(block.level)} ${escapeMarkdown(block.text)}`)
        break
      case 'paragraph':
        out.push(protectLineStart(inlineMarkdown(block.content)))
        break
      case 'list':
        out.push(block.items.map((item) => `- ${protectLineStart(inlineMarkdown(item)) || ' '}`).join('\n'))
        break
      case 'table': {
        // Every row has the header's cell count, whatever the data.
        const cell = (content: Inline[]) => inlineMarkdown(content) || ' '
        const rule = block.header.map((_, i) => (block.align?.[i] === 'right' ? '---:' : '---'))
        out.push(
          [
            `| ${block.header.map((text) => escapeMarkdown(text) || ' ').join(' | ')} |`,
            `| ${rule.join(' | ')} |`,
            ...block.rows.map((row) => `| ${block.header.map((_, i) => cell(row[i] ?? [])).join(' | ')} |`),
          ].join('\n'),
        )
        break
      }
      case 'prompt':
        out.push(`> _To be written: ${escapeMarkdown(block.text)}_`)
        break
    }
  }
  return `${out.join('\n\n')}\n`
}

/** Each line escaped on its own, joined by `<br>`, which Markdown keeps inside a table cell or a list item. */
function multiline(text: string, escape: (line: string) => string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map(escape)
    .join('<br>')
}

function inlineMarkdown(content: readonly Inline[]): string {
  return content
    .map((part) => {
      if (typeof part === 'string') return multiline(part, escapeMarkdown)
      if ('strong' in part) return part.strong ? `**${multiline(part.strong, escapeMarkdown)}**` : ''
      if ('em' in part) return part.em ? `_${multiline(part.em, escapeMarkdown)}_` : ''
      return codeSpan(part.code)
    })
    .join('')
}

/** A paragraph or list item that starts like a list item, quote, heading or numbered item is escaped there. */
function protectLineStart(text: string): string {
  return text.replace(
    /^(\s*)([-+#>=]|\d+(?=[.)](?:\s|$)))/,
    (_all, space: string, mark: string) => `${space}${/^\d/.test(mark) ? `${mark}\\` : `\\${mark}`}`,
  )
}

function codeSpan(code: string): string {
  const flat = code.replace(/\r?\n|\r/g, ' ').replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : ''
  return flat.trim() === '' ? '' : `${fence}${pad}${flat}${pad}${fence}`
}

// --- HTML ----------------------------------------------------------------------------------

const STYLE = [
  'body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}',
  'table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;vertical-align:top;text-align:left}',
  'td.r,th.r{text-align:right}blockquote.prompt{margin:.5rem 0;padding:.25rem .75rem;border-left:4px solid #bf8700;background:#fff8c5}',
  'code{font:13px ui-monospace,monospace;background:#f6f8fa;padding:0 .2rem}',
].join('')

export function renderHtml(blocks: readonly Block[], title: string): string {
  const body: string[] = []
  for (const block of blocks) {
    switch (block.type) {
      case 'heading':
        body.push(`<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`)
        break
      case 'paragraph':
        body.push(`<p>${inlineHtml(block.content)}</p>`)
        break
      case 'list':
        body.push(`<ul>\n${block.items.map((item) => `<li>${inlineHtml(item)}</li>`).join('\n')}\n</ul>`)
        break
      case 'table': {
        const cls = (i: number) => (block.align?.[i] === 'right' ? ' class="r"' : '')
        const head = `<tr>${block.header.map((text, i) => `<th${cls(i)}>${escapeHtml(text)}</th>`).join('')}</tr>`
        const rows = block.rows.map(
          (row) => `<tr>${block.header.map((_, i) => `<td${cls(i)}>${inlineHtml(row[i] ?? [])}</td>`).join('')}</tr>`,
        )
        body.push(`<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`)
        break
      }
      case 'prompt':
        body.push(`<blockquote class="prompt"><em>To be written: ${escapeHtml(block.text)}</em></blockquote>`)
        break
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

function inlineHtml(content: readonly Inline[]): string {
  return content
    .map((part) => {
      if (typeof part === 'string') return multiline(part, escapeHtml)
      if ('strong' in part) return `<strong>${multiline(part.strong, escapeHtml)}</strong>`
      if ('em' in part) return `<em>${multiline(part.em, escapeHtml)}</em>`
      return `<code>${escapeHtml(part.code)}</code>`
    })
    .join('')
}

// --- plain text ------------------------------------------------------------------------------

/** Control characters (an ANSI escape, a bidi override) would act on the terminal: shown as U+FFFD. */
function printable(text: string): string {
  return text
    .replace(/\r\n|\r/g, '\n')
    .replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]/g, '\uFFFD')
}

function inlineText(content: readonly Inline[]): string {
  return printable(
    content.map((part) => (typeof part === 'string' ? part : 'strong' in part ? part.strong : 'em' in part ? part.em : part.code)).join(''),
  )
}

/** Continuation lines of a multi-line text, indented under the first. */
function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`)
}

/** For a terminal or a plain-text mail: headings underlined, tables as aligned columns, prompts marked. */
export function renderText(blocks: readonly Block[]): string {
  const out: string[] = []
  for (const block of blocks) {
    switch (block.type) {
      case 'heading': {
        const text = printable(block.text).replace(/\s+/g, ' ')
        out.push(block.level === 3 ? `${text}:` : `${text}\n${(block.level === 1 ? '=' : '-').repeat(Math.min(text.length, 100))}`)
        break
      }
      case 'paragraph':
        out.push(inlineText(block.content))
        break
      case 'list':
        out.push(block.items.map((item) => `  - ${indent(inlineText(item), '    ')}`).join('\n'))
        break
      case 'table': {
        // One entry per row, its cells on one line; a multi-line cell continues indented below.
        const rows = block.rows.map((row) => block.header.map((_, i) => inlineText(row[i] ?? [])))
        const widths = block.header.map((header, i) =>
          Math.min(40, Math.max(printable(header).length, ...rows.map((row) => row[i]!.split('\n')[0]!.length))),
        )
        const line = (cells: string[]) =>
          cells
            .map((cell, i) => {
              const first = cell.split('\n')[0]!
              return block.align?.[i] === 'right' ? first.padStart(widths[i]!) : first.padEnd(widths[i]!)
            })
            .join('  ')
            .trimEnd()
        const more = (cells: string[]) =>
          cells.flatMap((cell, i) =>
            cell
              .split('\n')
              .slice(1)
              .map((rest) => `      ${block.header[i] ? `${printable(block.header[i]!)}: ` : ''}${rest}`),
          )
        const headed = block.header.some((header) => header.trim() !== '')
        out.push(
          [
            ...(headed ? [`  ${line(block.header.map(printable))}`, `  ${widths.map((width) => '-'.repeat(width)).join('  ')}`] : []),
            ...rows.flatMap((cells) => [`  ${line(cells)}`, ...more(cells)]),
          ].join('\n'),
        )
        break
      }
      case 'prompt':
        out.push(`  [To be written: ${printable(block.text).replace(/\n/g, ' ')}]`)
        break
    }
  }
  return `${out.join('\n\n')}\n`
}
