import { describe, expect, it } from 'vitest'
import { createProgress, isInteractive, palette, renderTable, sparkline } from '../../src/core/index.js'

describe('output', () => {
  it('uses colors only on a TTY without CI or NO_COLOR', () => {
    expect(isInteractive({ isTTY: true }, {})).toBe(true)
    expect(isInteractive({ isTTY: false }, {})).toBe(false)
    expect(isInteractive({ isTTY: true }, { CI: 'true' })).toBe(false)
    expect(isInteractive({ isTTY: true }, { NO_COLOR: '' })).toBe(false)
    expect(palette(false).red('x')).toBe('x')
    expect(palette(true).red('x')).toBe('\u001B[31mx\u001B[39m')
  })

  it('aligns tables, numbers to the right', () => {
    const table = renderTable(
      [
        { name: 'a', n: 5 },
        { name: 'longer', n: 1234 },
      ],
      [
        { header: 'NAME', value: (row) => row.name },
        { header: 'N', value: (row) => row.n },
      ],
    )
    expect(table).toBe(['NAME       N', 'a          5', 'longer  1234'].join('\n'))
  })

  it('draws sparklines from the lowest to the highest value', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█')
    expect(sparkline([])).toBe('')
  })

  it('draws no progress bar when the stream is not interactive', () => {
    const written: string[] = []
    const progress = createProgress('x', 10, { isTTY: false, write: (chunk) => written.push(chunk) > 0 }, {})
    progress.update(5)
    progress.done()
    expect(written).toEqual([])
  })
})
