/** Orders text by code unit, the same in every locale: rows locked in this order by concurrent transactions never deadlock. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
