/**
 * Tiny typed readers/writers for DynamoDB attribute values. We write our items by hand (they
 * are few and small) instead of pulling in a marshaller, so every attribute's type is explicit.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/** A meta-table key ({pk, sk} strings, from keys/) as DynamoDB attributes. */
export function keyAttributes(k: { pk: string; sk: string }): Item {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

export function str(item: Item | undefined, name: string): string {
  const v = item?.[name]?.S;
  if (v === undefined) throw new Error(`item attribute ${name} is not a string`);
  return v;
}

export function num(item: Item | undefined, name: string): number {
  const v = item?.[name]?.N;
  if (v === undefined) throw new Error(`item attribute ${name} is not a number`);
  return Number(v);
}

export function optNum(item: Item | undefined, name: string): number | undefined {
  const v = item?.[name]?.N;
  return v === undefined ? undefined : Number(v);
}

export function optStr(item: Item | undefined, name: string): string | undefined {
  return item?.[name]?.S;
}
