import { describe, expect, it } from 'vitest'
import { aggregateRevenueByProductAndMonth, type RevenueRow } from '../../reference-service/src/index.js'

function row(productId: number, orderId: number, isoDate: string, quantity: number, priceCents: number): RevenueRow {
  return { productId, orderId, orderedAtMs: Date.parse(isoDate), quantity, priceCents }
}

describe('aggregateRevenueByProductAndMonth', () => {
  it('sums revenue and units per product per month and counts distinct orders', () => {
    const report = aggregateRevenueByProductAndMonth([
      row(1, 10, '2024-01-05T10:00:00Z', 2, 500),
      row(1, 10, '2024-01-05T10:00:00Z', 1, 500),
      row(1, 11, '2024-01-31T23:59:59Z', 1, 500),
      row(1, 12, '2024-02-01T00:00:00Z', 4, 500),
      row(2, 12, '2024-02-01T00:00:00Z', 1, 9000),
    ])
    expect(report.rows).toBe(5)
    expect(report.products.map((product) => product.productId)).toEqual([2, 1])
    const first = report.products.find((product) => product.productId === 1)
    expect(first).toMatchObject({ revenueCents: 4000, units: 8, orders: 3, bestMonth: '2024-01' })
    expect(first?.months).toEqual([
      { month: '2024-01', revenueCents: 2000, units: 4, orders: 2, growth: null },
      { month: '2024-02', revenueCents: 2000, units: 4, orders: 1, growth: 0 },
    ])
    expect(report.months).toEqual([
      { month: '2024-01', revenueCents: 2000, units: 4, orders: 2 },
      { month: '2024-02', revenueCents: 11000, units: 5, orders: 1 },
    ])
  })

  it('reports month-over-month growth per product', () => {
    const report = aggregateRevenueByProductAndMonth([
      row(1, 1, '2024-03-01T00:00:00Z', 1, 1000),
      row(1, 2, '2024-04-01T00:00:00Z', 3, 500),
    ])
    expect(report.products[0]?.months.map((month) => month.growth)).toEqual([null, 0.5])
  })

  it('gives the same report when FAULT_REPORT_CPU makes it do the work several times', () => {
    const rows = [
      row(1, 1, '2024-03-01T00:00:00Z', 1, 1000),
      row(2, 2, '2024-04-01T00:00:00Z', 3, 500),
      row(1, 3, '2024-04-02T00:00:00Z', 2, 1000),
    ]
    expect(aggregateRevenueByProductAndMonth(rows, { cpuFactor: 5 })).toEqual(aggregateRevenueByProductAndMonth(rows))
  })

  it('returns an empty report for no rows', () => {
    expect(aggregateRevenueByProductAndMonth([])).toEqual({ rows: 0, months: [], products: [] })
  })
})
