/**
 * Deterministic seed data: the same scale always yields the same rows, so load tests, plans and
 * profiles are comparable between runs and machines. Pure; no database, no Math.random.
 */

export interface SeedCounts {
  users: number
  products: number
  orders: number
  items: number
}

/** Scale 1. Roughly four orders per user and five items per order, like a small shop. */
export const DEFAULT_SEED_COUNTS: SeedCounts = { users: 5_000, products: 1_000, orders: 20_000, items: 100_000 }

export interface SeedData {
  users: { id: number[]; email: string[]; name: string[] }
  products: { id: number[]; sku: string[]; name: string[]; priceCents: number[] }
  orders: { id: number[]; userId: number[]; status: string[]; createdAt: string[] }
  items: { id: number[]; orderId: number[]; productId: number[]; sku: string[]; quantity: number[]; priceCents: number[] }
}

const SEED = 0x5eed_2024
/** Orders are spread over 2024 so that the revenue report has twelve months to aggregate. */
const FIRST_ORDER_AT = Date.UTC(2024, 0, 1)
const ORDER_PERIOD_SECONDS = 366 * 24 * 3600

const FIRST_NAMES = ['Ada', 'Alan', 'Barbara', 'Dennis', 'Edsger', 'Frances', 'Grace', 'Ken', 'Leslie', 'Linus', 'Margaret', 'Radia']
const LAST_NAMES = [
  'Allen',
  'Dijkstra',
  'Hamilton',
  'Hopper',
  'Kernighan',
  'Lamport',
  'Liskov',
  'Lovelace',
  'Perlman',
  'Ritchie',
  'Thompson',
  'Turing',
]
const ADJECTIVES = ['Compact', 'Durable', 'Ergonomic', 'Fast', 'Quiet', 'Robust', 'Silent', 'Smart', 'Sturdy', 'Wireless']
const NOUNS = ['Adapter', 'Cable', 'Charger', 'Dock', 'Headset', 'Keyboard', 'Monitor', 'Mouse', 'Router', 'Switch']
/** Weighted: most orders are still open or shipped, a few were cancelled. */
const STATUSES = ['placed', 'placed', 'paid', 'shipped', 'shipped', 'shipped', 'delivered', 'delivered', 'cancelled']

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Row counts for a scale: every table keeps at least one row so the routes always have data. */
export function seedCounts(scale: number): SeedCounts {
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`seed scale must be a number above 0, got ${scale}`)
  const at = (base: number) => Math.max(1, Math.round(base * scale))
  return {
    users: at(DEFAULT_SEED_COUNTS.users),
    products: at(DEFAULT_SEED_COUNTS.products),
    orders: at(DEFAULT_SEED_COUNTS.orders),
    items: at(DEFAULT_SEED_COUNTS.items),
  }
}

export function generateSeedData(scale: number): SeedData {
  const counts = seedCounts(scale)
  const random = mulberry32(SEED)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))

  const users: SeedData['users'] = { id: [], email: [], name: [] }
  for (let id = 1; id <= counts.users; id++) {
    users.id.push(id)
    users.email.push(`user${id}@example.test`)
    users.name.push(`${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`)
  }

  const products: SeedData['products'] = { id: [], sku: [], name: [], priceCents: [] }
  for (let id = 1; id <= counts.products; id++) {
    products.id.push(id)
    products.sku.push(`SKU-${String(id).padStart(5, '0')}`)
    products.name.push(`${pick(ADJECTIVES)} ${pick(NOUNS)} ${id}`)
    products.priceCents.push(between(199, 49_999))
  }

  const orders: SeedData['orders'] = { id: [], userId: [], status: [], createdAt: [] }
  for (let id = 1; id <= counts.orders; id++) {
    orders.id.push(id)
    orders.userId.push(between(1, counts.users))
    orders.status.push(pick(STATUSES))
    orders.createdAt.push(new Date(FIRST_ORDER_AT + Math.floor(random() * ORDER_PERIOD_SECONDS) * 1000).toISOString())
  }

  // Every order gets one line, the rest are spread at random, so items per order vary (1..n)
  // and the total is exactly the requested count.
  const lines = Array.from({ length: counts.orders }, (_, index): number => (index < counts.items ? 1 : 0))
  for (let extra = counts.items - counts.orders; extra > 0; extra--) {
    const index = Math.floor(random() * counts.orders)
    lines[index] = (lines[index] ?? 0) + 1
  }

  const items: SeedData['items'] = { id: [], orderId: [], productId: [], sku: [], quantity: [], priceCents: [] }
  let itemId = 0
  for (let index = 0; index < counts.orders; index++) {
    for (let line = 0; line < (lines[index] ?? 0); line++) {
      // Squaring skews sales towards low product ids: a few best sellers, a long tail.
      const productIndex = Math.floor(random() * random() * counts.products)
      items.id.push(++itemId)
      items.orderId.push(index + 1)
      items.productId.push(productIndex + 1)
      items.sku.push(products.sku[productIndex] as string)
      items.quantity.push(between(1, 5))
      items.priceCents.push(products.priceCents[productIndex] as number)
    }
  }

  return { users, products, orders, items }
}
