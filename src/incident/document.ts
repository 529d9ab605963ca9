/**
 * A small document model for the post-mortem, rendered to Markdown and to HTML. Every piece of
 * text is escaped for its target: titles, notes and alert summaries come from people and
 * payloads, and nothing in them may turn into markup, links or script.
 */
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
        out.push(block.items.map((item) => `- ${inlineMarkdown(item)}`).join('\n'))
        break
      case 'table': {
        const cell = (content: Inline[]) => inlineMarkdown(content) || ' '
        const rule = block.header.map((_, i) => (block.align?.[i] === 'right' ? '---:' : '---'))
        out.push(
          [
            `| ${block.header.map((text) => escapeMarkdown(text)).join(' | ')} |`,
            `| ${rule.join(' | ')} |`,
            ...block.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
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

function inlineMarkdown(content: readonly Inline[]): string {
  return content
    .map((part) => {
      if (typeof part === 'string') return escapeMarkdown(part)
      if ('strong' in part) return part.strong ? `**${escapeMarkdown(part.strong)}**` : ''
      if ('em' in part) return part.em ? `_${escapeMarkdown(part.em)}_` : ''
      return codeSpan(part.code)
    })
    .join('')
}

/** Text as literal Markdown: no emphasis, links, HTML, table breaks or entities; one line. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|~]/g, '\\$&')
    .replace(/&(?=#?[a-z0-9]+;)/gi, '&amp;')
}

/** A paragraph that starts like a list item, quote or heading is escaped there. */
function protectLineStart(text: string): string {
  return text.replace(/^(\s*)([-+#>]|\d+(?=[.)]\s))/, (_all, space: string, mark: string) => `${space}${/^\d/.test(mark) ? `${mark}\\` : `\\${mark}`}`)
}

function codeSpan(code: string): string {
  const flat = code.replace(/\r?\n|\r/g, ' ').replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${flat}${pad}${fence}`
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
        const rows = block.rows.map((row) => `<tr>${row.map((content, i) => `<td${cls(i)}>${inlineHtml(content)}</td>`).join('')}</tr>`)
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
      if (typeof part === 'string') return escapeHtml(part)
      if ('strong' in part) return `<strong>${escapeHtml(part.strong)}</strong>`
      if ('em' in part) return `<em>${escapeHtml(part.em)}</em>`
      return `<code>${escapeHtml(part.code)}</code>`
    })
    .join('')
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!)
}
