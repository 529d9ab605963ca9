import { describe, expect, it } from 'vitest'
import { diffProfiles, growthOver } from '../../src/profile/diff.js'
import { buildDiffTree, escapeHtml, renderDiffFlameGraphHtml, renderFlameGraphHtml } from '../../src/profile/flamegraph-html.js'
import { stackProfile, type WeightedStack } from '../../src/profile/stacks.js'

const profile = (stacks: Array<[string, number]>) =>
  stackProfile(
    'samples',
    stacks.map(([stack, weight]): WeightedStack => ({ frames: stack.split(';'), weight })),
  )

describe('profile diff', () => {
  const before = profile([
    ['main (app.js:1:1);render (app.js:10:1)', 50],
    ['main (app.js:1:1);score (app.js:20:1)', 50],
    ['(idle)', 100],
  ])
  // score is slower: twice the samples of render; a different line (an edit above it) is the same function
  const after = profile([
    ['main (app.js:1:1);render (app.js:12:1)', 100],
    ['main (app.js:1:1);score (app.js:22:1)', 300],
    ['(idle)', 10],
  ])

  it('normalises by on-CPU samples and ranks the largest change of self share first', () => {
    const diff = diffProfiles(before, after)
    expect(diff.before).toEqual({ total: 100, idle: 100 })
    expect(diff.after).toEqual({ total: 400, idle: 10 })
    const [first, second] = diff.changes
    expect(first).toMatchObject({ name: 'score', location: 'app.js:22' })
    expect(first!.before.selfShare).toBeCloseTo(0.5)
    expect(first!.after.selfShare).toBeCloseTo(0.75)
    expect(first!.selfDelta).toBeCloseTo(0.25)
    expect(second).toMatchObject({ name: 'render' })
    expect(second!.selfDelta).toBeCloseTo(-0.25)
    expect(diff.changes.find((change) => change.name === 'main')!.totalDelta).toBeCloseTo(0)
  })

  it('is all zeros for a profile against a scaled copy of itself', () => {
    const doubled = profile(before.stacks.map((stack) => [stack.frames.join(';'), stack.weight * 2] as [string, number]))
    for (const change of diffProfiles(before, doubled).changes) expect(Math.abs(change.selfDelta)).toBeLessThan(1e-12)
  })

  it('reports new and vanished functions with a share of zero on the other side', () => {
    const diff = diffProfiles(profile([['a (x.js:1:1)', 10]]), profile([['b (x.js:5:1)', 10]]))
    expect(diff.changes.map((change) => [change.name, change.before.selfShare, change.after.selfShare])).toEqual([
      ['b', 0, 1],
      ['a', 1, 0],
    ])
  })

  it('flags only growth above --max-growth', () => {
    const diff = diffProfiles(before, after)
    expect(growthOver(diff, 0.05).map((change) => change.name)).toEqual(['score'])
    expect(growthOver(diff, 0.25)).toEqual([])
    expect(growthOver(diff, 0.3)).toEqual([])
  })

  it('builds one tree whose frames are as wide as the mean of both shares', () => {
    const tree = buildDiffTree(before, after)
    expect(tree.width).toBeCloseTo(1)
    const main = tree.children[0]!
    const score = main.children.find((node) => node.label.startsWith('score'))!
    expect(score.label).toBe('score (app.js:22:1)')
    expect(score.width).toBeCloseTo((0.5 + 0.75) / 2)
    expect(score.diff).toMatchObject({ beforeSelf: 0.5, afterSelf: 0.75 })
  })
})

describe('flame graph HTML', () => {
  const hostile = profile([
    ['main (app.js:1:1);<img src=x onerror=alert(1)> ("quoted" & \'single\'.js:3:1)', 5],
    ['main (app.js:1:1);</title><script>alert(2)</script>', 5],
  ])

  it('escapes every name from the profile', () => {
    for (const html of [
      renderFlameGraphHtml(hostile, { title: 'profile of <b>x</b>' }),
      renderDiffFlameGraphHtml(hostile, hostile, diffProfiles(hostile, hostile).changes, { title: 'diff' }),
    ]) {
      expect(html).not.toContain('<img')
      expect(html).not.toContain('<script>')
      expect(html).not.toContain('<b>x</b>')
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(html).toContain('&lt;/title&gt;&lt;script&gt;')
      expect(html).toContain('&quot;quoted&quot; &amp; &#39;single&#39;')
    }
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  })

  it('is self-contained: no scripts, no links, nothing fetched', () => {
    const plain = profile([['main (app.js:1:1);work (app.js:5:1)', 10]])
    const html = renderDiffFlameGraphHtml(plain, plain, diffProfiles(plain, plain).changes, { title: 'diff' })
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i)
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('<svg')
  })

  it('colours grown frames red and shrunk frames blue', () => {
    const before = profile([
      ['a (x.js:1:1)', 50],
      ['b (x.js:2:1)', 50],
    ])
    const after = profile([
      ['a (x.js:1:1)', 80],
      ['b (x.js:2:1)', 20],
    ])
    const html = renderDiffFlameGraphHtml(before, after, diffProfiles(before, after).changes, { title: 'diff' })
    const fillOf = (name: string) => new RegExp(`<title>${name} \\(x\\.js[^<]*</title><rect [^>]*fill="([^"]+)"`).exec(html)?.[1]
    expect(fillOf('a')).toBe('rgb(250, 35, 35)')
    expect(fillOf('b')).toBe('rgb(35, 35, 250)')
  })
})
