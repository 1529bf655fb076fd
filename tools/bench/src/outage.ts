export async function outageSection(_: { quick: boolean; log: (m: string) => void }): Promise<string[]> {
  return [];
}
