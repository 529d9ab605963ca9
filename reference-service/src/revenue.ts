/**
 * The revenue report's aggregation, in its own module so that it has its own frames in a CPU
 * profile. Pure: rows in, report out.
 */

export interface RevenueRow {
  productId: number
  productName: string
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
  productName: string
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

/** Revenue, units and distinct orders per product per month, and per month overall. */
export function aggregateRevenueByProductAndMonth(rows: readonly RevenueRow[]): RevenueReport {
  const byProduct = new Map<number, { name: string; months: Map<string, Tally> }>()
  const byMonth = new Map<string, Tally>()

  for (const row of rows) {
    const month = monthOf(row.orderedAtMs)
    const revenue = row.priceCents * row.quantity
    let product = byProduct.get(row.productId)
    if (!product) {
      product = { name: row.productName, months: new Map() }
      byProduct.set(row.productId, product)
    }
    addTo(product.months, month, revenue, row)
    addTo(byMonth, month, revenue, row)
  }

  const products: ProductRevenue[] = []
  for (const [productId, product] of byProduct) {
    const months = [...product.months.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const orderIds = new Set<number>()
    let revenueCents = 0
    let units = 0
    let best: [string, number] = ['', -1]
    let previous: number | undefined
    const monthly: MonthRevenue[] = []
    for (const [month, tally] of months) {
      for (const id of tally.orderIds) orderIds.add(id)
      revenueCents += tally.revenueCents
      units += tally.units
      if (tally.revenueCents > best[1]) best = [month, tally.revenueCents]
      monthly.push({
        month,
        revenueCents: tally.revenueCents,
        units: tally.units,
        orders: tally.orderIds.size,
        growth: previous === undefined || previous === 0 ? null : round4((tally.revenueCents - previous) / previous),
      })
      previous = tally.revenueCents
    }
    products.push({ productId, productName: product.name, revenueCents, units, orders: orderIds.size, bestMonth: best[0], months: monthly })
  }
  products.sort((a, b) => b.revenueCents - a.revenueCents || a.productId - b.productId)

  const months = [...byMonth.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, tally]) => ({ month, revenueCents: tally.revenueCents, units: tally.units, orders: tally.orderIds.size }))

  return { rows: rows.length, months, products }
}

function addTo(tallies: Map<string, Tally>, month: string, revenue: number, row: RevenueRow): void {
  let tally = tallies.get(month)
  if (!tally) {
    tally = { revenueCents: 0, units: 0, orderIds: new Set() }
    tallies.set(month, tally)
  }
  tally.revenueCents += revenue
  tally.units += row.quantity
  tally.orderIds.add(row.orderId)
}

function monthOf(epochMs: number): string {
  const date = new Date(epochMs)
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000
}
