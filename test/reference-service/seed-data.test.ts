import { describe, expect, it } from 'vitest'
import { DEFAULT_SEED_COUNTS, generateSeedData, seedCounts } from '../../reference-service/src/index.js'
import { mulberry32 } from '../../reference-service/src/seed-data.js'

describe('seed data', () => {
  it('has the default counts at scale 1 and scales them down for tests', () => {
    expect(seedCounts(1)).toEqual(DEFAULT_SEED_COUNTS)
    expect(seedCounts(0.01)).toEqual({ users: 50, products: 10, orders: 200, items: 1000 })
    expect(seedCounts(0.00001)).toEqual({ users: 1, products: 1, orders: 1, items: 1 })
  })

  it('refuses a scale that is not above 0', () => {
    expect(() => seedCounts(0)).toThrow(RangeError)
    expect(() => seedCounts(Number.NaN)).toThrow(RangeError)
  })

  it('is identical for the same scale', () => {
    expect(generateSeedData(0.02)).toEqual(generateSeedData(0.02))
  })

  it('gives every order at least one item and keeps references and prices consistent', () => {
    const data = generateSeedData(0.01)
    expect(data.items.id).toHaveLength(1000)
    expect(new Set(data.items.orderId).size).toBe(200)
    data.items.productId.forEach((productId, index) => {
      expect(data.items.sku[index]).toBe(data.products.sku[productId - 1])
      expect(data.items.priceCents[index]).toBe(data.products.priceCents[productId - 1])
    })
    expect(Math.max(...data.orders.userId)).toBeLessThanOrEqual(50)
  })

  it('uses a seeded generator that repeats its sequence', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const first = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(first)
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true)
  })
})
