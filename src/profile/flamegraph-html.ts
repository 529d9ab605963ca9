/**
 * Flame graphs as one self-contained HTML file (inline SVG and CSS, no script, nothing fetched):
 * a plain one for a profile, and a differential one for two (red grew, blue shrank). Every name
 * that came from a profile is escaped. Pure.
 */
import { frameKind, functionKey } from './frames.js'
import type { FunctionChange } from './diff.js'
import { onCpu } from './diff.js'
import type { StackProfile } from './stacks.js'

export interface FlameNode {
  label: string
  /** Width, as a share of the whole graph (0..1). */
  width: number
  /** Share of the profile with this frame as the leaf (single graphs). */
  self: number
  /** Differential graphs: shares of the before and after profiles, total and self. */
  diff?: { beforeTotal: number; afterTotal: number; beforeSelf: number; afterSelf: number }
  children: FlameNode[]
}

interface MutableNode {
  label: string
  before: { total: number; self: number }
  after: { total: number; self: number }
  children: Map<string, MutableNode>
}

const ROOT_LABEL = 'all'

function mutableNode(label: string): MutableNode {
  return { label, before: { total: 0, self: 0 }, after: { total: 0, self: 0 }, children: new Map() }
}

function addStacks(root: MutableNode, profile: StackProfile, side: 'before' | 'after', keyOf: (label: string) => string): void {
  const all = profile.total || 1
  for (const stack of profile.stacks) {
    const share = stack.weight / all
    let node = root
    node[side].total += share
    for (const label of stack.frames) {
      const key = keyOf(label)
      let child = node.children.get(key)
      if (!child) {
        child = mutableNode(label)
        node.children.set(key, child)
      }
      if (side === 'after') child.label = label
      child[side].total += share
      node = child
    }
    node[side].self += share
  }
}

function freeze(node: MutableNode, width: (node: MutableNode) => number, withDiff: boolean): FlameNode {
  const children = [...node.children.values()].map((child) => freeze(child, width, withDiff))
  children.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
  return {
    label: node.label,
    width: width(node),
    self: node.after.self,
    ...(withDiff
      ? { diff: { beforeTotal: node.before.total, afterTotal: node.after.total, beforeSelf: node.before.self, afterSelf: node.after.self } }
      : {}),
    children,
  }
}

export function buildFlameTree(profile: StackProfile): FlameNode {
  const root = mutableNode(ROOT_LABEL)
  addStacks(root, profile, 'after', (label) => label)
  return freeze(root, (node) => node.after.total, false)
}

/**
 * One tree for both profiles (on-CPU shares, frames matched by function so a moved line still
 * matches). A frame is as wide as the mean of its two shares: what shrank stays visible, what
 * grew is not exaggerated, and children never outgrow their parent.
 */
export function buildDiffTree(before: StackProfile, after: StackProfile): FlameNode {
  const root = mutableNode(ROOT_LABEL)
  addStacks(root, onCpu(before), 'before', functionKey)
  addStacks(root, onCpu(after), 'after', functionKey)
  return freeze(root, (node) => (node.before.total + node.after.total) / 2, true)
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!)
}

const WIDTH = 1200
const ROW = 17
const MIN_PX = 0.4

function percent(share: number): string {
  return `${(share * 100).toFixed(share !== 0 && Math.abs(share) < 0.001 ? 3 : 2)}%`
}

function signedPoints(delta: number): string {
  const points = Math.abs(delta * 100).toFixed(2)
  return `${delta < 0 && points !== '0.00' ? '−' : '+'}${points} pts`
}

/** A stable warm colour per name, as flamegraph.pl does; other kinds of time get their own hues. */
function plainColour(label: string): string {
  const kind = frameKind(label)
  if (kind === 'gc') return 'hsl(280, 45%, 70%)'
  if (kind === 'idle') return 'hsl(200, 40%, 82%)'
  if (kind === 'program' || kind === 'root') return 'hsl(0, 0%, 78%)'
  let hash = 0
  for (let index = 0; index < label.length; index++) hash = (hash * 31 + label.charCodeAt(index)) >>> 0
  if (kind === 'native') return `hsl(${40 + (hash % 20)}, 30%, ${62 + (hash % 10)}%)`
  return `hsl(${(hash % 40) + 5}, ${75 + (hash % 20)}%, ${55 + ((hash >> 8) % 12)}%)`
}

function diffColour(delta: number, scale: number): string {
  if (scale <= 0 || Math.abs(delta) < 1e-9) return 'rgb(235, 235, 235)'
  const strength = Math.min(1, Math.abs(delta) / scale)
  const fade = Math.round(225 - strength * 190)
  return delta > 0 ? `rgb(250, ${fade}, ${fade})` : `rgb(${fade}, ${fade}, 250)`
}

function tooltip(node: FlameNode): string {
  if (!node.diff) return `${node.label}\ntotal ${percent(node.width)} · self ${percent(node.self)}`
  const { beforeTotal, afterTotal, beforeSelf, afterSelf } = node.diff
  return `${node.label}\nself ${percent(beforeSelf)} → ${percent(afterSelf)} (${signedPoints(afterSelf - beforeSelf)})\ntotal ${percent(beforeTotal)} → ${percent(afterTotal)} (${signedPoints(afterTotal - beforeTotal)})`
}

interface Placed {
  node: FlameNode
  x: number
  depth: number
}

function place(root: FlameNode, scale: number): { placed: Placed[]; depth: number; hidden: number } {
  const placed: Placed[] = []
  let depth = 0
  let hidden = 0
  const stack: Placed[] = [{ node: root, x: 0, depth: 0 }]
  while (stack.length) {
    const item = stack.pop()!
    if (item.node.width * scale < MIN_PX) {
      hidden++
      continue
    }
    placed.push(item)
    depth = Math.max(depth, item.depth)
    let x = item.x
    for (const child of item.node.children) {
      stack.push({ node: child, x, depth: item.depth + 1 })
      x += child.width
    }
  }
  return { placed, depth: depth + 1, hidden }
}

function renderSvg(root: FlameNode, colour: (node: FlameNode) => string): { svg: string; hidden: number } {
  const scale = root.width > 0 ? WIDTH / root.width : WIDTH
  const { placed, depth, hidden } = place(root, scale)
  const height = depth * ROW + 4
  const parts = placed.map(({ node, x, depth: level }) => {
    const px = x * scale
    const width = node.width * scale
    const y = height - (level + 1) * ROW
    const chars = Math.floor((width - 6) / 7)
    const text = chars >= 3 ? (node.label.length > chars ? `${node.label.slice(0, chars - 2)}..` : node.label) : ''
    return (
      `<g><title>${escapeHtml(tooltip(node))}</title>` +
      `<rect x="${px.toFixed(2)}" y="${y}" width="${Math.max(0.1, width - 0.5).toFixed(2)}" height="${ROW - 1}" rx="2" fill="${colour(node)}"/>` +
      (text ? `<text x="${(px + 3).toFixed(2)}" y="${y + ROW - 5}">${escapeHtml(text)}</text>` : '') +
      '</g>'
    )
  })
  return {
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">${parts.join('')}</svg>`,
    hidden,
  }
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { color: #555; margin: 0 0 16px; white-space: pre-line; }
svg { display: block; max-width: 100%; height: auto; background: #fafafa; border: 1px solid #ddd; }
svg text { font: 11px ui-monospace, SFMono-Regular, Menlo, monospace; fill: #111; pointer-events: none; }
svg rect:hover { stroke: #000; stroke-width: 0.6; }
table { border-collapse: collapse; margin-top: 20px; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grew { color: #b00; } .shrank { color: #00b; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
`

function page(title: string, meta: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(meta)}</p>\n${body}\n</body></html>\n`
}

export function renderFlameGraphHtml(profile: StackProfile, options: { title: string; meta?: string }): string {
  const tree = buildFlameTree(profile)
  const { svg, hidden } = renderSvg(tree, (node) => plainColour(node.label))
  const unit = profile.unit === 'bytes' ? 'bytes' : 'samples'
  const meta = [
    options.meta,
    `${profile.total.toLocaleString('en-US')} ${unit}; width is the share of all ${unit}; hover a frame for its shares.`,
    hidden ? `${hidden} frames narrower than a pixel are not drawn.` : '',
  ]
    .filter(Boolean)
    .join('\n')
  return page(options.title, meta, svg)
}

export function renderDiffFlameGraphHtml(
  before: StackProfile,
  after: StackProfile,
  changes: FunctionChange[],
  options: { title: string; meta?: string; top?: number },
): string {
  const tree = buildDiffTree(before, after)
  const scale = Math.max(0, ...changes.map((change) => Math.abs(change.selfDelta)))
  const { svg, hidden } = renderSvg(tree, (node) =>
    node.label === ROOT_LABEL ? 'rgb(235, 235, 235)' : diffColour(node.diff ? node.diff.afterSelf - node.diff.beforeSelf : 0, scale),
  )
  const rows = changes
    .slice(0, options.top ?? 25)
    .map((change) => {
      const cls = change.selfDelta > 0 ? 'grew' : change.selfDelta < 0 ? 'shrank' : ''
      return (
        `<tr><td><code>${escapeHtml(change.name)}</code></td><td><code>${escapeHtml(change.location)}</code></td>` +
        `<td class="num">${percent(change.before.selfShare)}</td><td class="num">${percent(change.after.selfShare)}</td>` +
        `<td class="num ${cls}">${signedPoints(change.selfDelta)}</td><td class="num">${signedPoints(change.totalDelta)}</td></tr>`
      )
    })
    .join('')
  const meta = [
    options.meta,
    'Red: the frame’s self share grew; blue: it shrank (darker is more). Shares are of each profile’s on-CPU samples (idle left out);',
    'a frame is as wide as the mean of its before and after shares. Hover a frame for both.',
    hidden ? `${hidden} frames narrower than a pixel are not drawn.` : '',
  ]
    .filter(Boolean)
    .join('\n')
  const table =
    `<table><thead><tr><th>function</th><th>where</th><th>self before</th><th>self after</th><th>self change</th><th>total change</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  return page(options.title, meta, `${svg}\n${table}`)
}
