/**
 * The revenue report's aggregation, in its own module so that it has its own frames in a CPU
 * profile. Pure: rows in, report out.
 */

export interface RevenueRow {
  productId: number
  orderId: number
  /** Epoch milliseconds. */
  orderedAtMs: number
  quantity: number
  priceCents: number
}

export interface MonthRevenue {
  /** `YYYY-MM`, UTC. */
  month: string
  revenueCents: number
  units: number
  /** Distinct orders that bought the product that month. */
  orders: number
  /** Change against the product's previous month with sales; null for its first month. */
  growth: number | null
}

export interface ProductRevenue {
  productId: number
  revenueCents: number
  units: number
  orders: number
  bestMonth: string
  months: MonthRevenue[]
}

export interface RevenueReport {
  rows: number
  months: Array<{ month: string; revenueCents: number; units: number; orders: number }>
  /** Highest revenue first; ties by product id. */
  products: ProductRevenue[]
}

interface Tally {
  revenueCents: number
  units: number
  orderIds: Set<number>
}

/**
 * Revenue, units and distinct orders per product per month, and per month overall. The per-row
 * work is written out in this one function on purpose: it is the hot function opsctl's profiler
 * is demonstrated on, and helpers would split its self time across several frames.
 */
export function aggregateRevenueByProductAndMonth(rows: readonly RevenueRow[], options: { cpuFactor?: number } = {}): RevenueReport {
  const cpuFactor = options.cpuFactor ?? 1
  const byProduct = new Map<number, Map<string, Tally>>()
  for (const row of rows) {
    const date = new Date(row.orderedAtMs)
    const month = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`
    // FAULT_REPORT_CPU asks for a deliberate regression: the month worked out again by calendar
    // arithmetic (same result, more work). Arithmetic, not Date objects: allocating would move the
    // extra cost into the garbage collector and the callers whose objects it copies.
    for (let pass = 1; pass < cpuFactor; pass++) {
      for (let repeat = 0; repeat < 64; repeat++) {
        const days = Math.floor(row.orderedAtMs / 86_400_000) + 719_468
        const era = Math.floor(days / 146_097)
        const dayOfEra = days - era * 146_097
        const yearOfEra = Math.floor(
          (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
        )
        const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
        const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153)
        const monthNumber = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        const year = yearOfEra + era * 400 + (monthNumber <= 2 ? 1 : 0)
        if (year !== date.getUTCFullYear() || monthNumber !== date.getUTCMonth() + 1)
          throw new Error(`calendar arithmetic disagrees on ${row.orderedAtMs}`)
      }
    }
    let months = byProduct.get(row.productId)
    if (!months) byProduct.set(row.productId, (months = new Map()))
    let tally = months.get(month)
    if (!tally) months.set(month, (tally = { revenueCents: 0, units: 0, orderIds: new Set() }))
    tally.revenueCents += row.priceCents * row.quantity
    tally.units += row.quantity
    tally.orderIds.add(row.orderId)
  }

  const byMonth = new Map<string, Tally>()
  const products: ProductRevenue[] = []
  for (const [productId, productMonths] of byProduct) {
    const months = [...productMonths.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const orderIds = new Set<number>()
    let revenueCents = 0
    let units = 0
    let best: [string, number] = ['', -1]
    let previous: number | undefined
    const monthly: MonthRevenue[] = []
    for (const [month, tally] of months) {
      let overall = byMonth.get(month)
      if (!overall) byMonth.set(month, (overall = { revenueCents: 0, units: 0, orderIds: new Set() }))
      overall.revenueCents += tally.revenueCents
      overall.units += tally.units
      for (const id of tally.orderIds) {
        orderIds.add(id)
        overall.orderIds.add(id)
      }
      revenueCents += tally.revenueCents
      units += tally.units
      if (tally.revenueCents > best[1]) best = [month, tally.revenueCents]
      monthly.push({
        month,
        revenueCents: tally.revenueCents,
        units: tally.units,
        orders: tally.orderIds.size,
        growth:
          previous === undefined || previous === 0 ? null : Math.round(((tally.revenueCents - previous) / previous) * 10_000) / 10_000,
      })
      previous = tally.revenueCents
    }
    products.push({ productId, revenueCents, units, orders: orderIds.size, bestMonth: best[0], months: monthly })
  }
  products.sort((a, b) => b.revenueCents - a.revenueCents || a.productId - b.productId)

  const months = [...byMonth.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, tally]) => ({ month, revenueCents: tally.revenueCents, units: tally.units, orders: tally.orderIds.size }))

  return { rows: rows.length, months, products }
}
