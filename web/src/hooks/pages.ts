// Every item of a paged list (items, total, limit, offset): the first page, then the rest at once.
type Page<T> = { items: T[]; total: number };

export async function allPages<T>(page: (offset: number, limit: number) => Promise<Page<T>>, limit = 200): Promise<T[]> {
  const first = await page(0, limit);
  if (first.total <= first.items.length) return first.items;
  const offsets: number[] = [];
  for (let o = limit; o < first.total; o += limit) offsets.push(o);
  const rest = await Promise.all(offsets.map((o) => page(o, limit)));
  return [...first.items, ...rest.flatMap((p) => p.items)];
}
