import type { ResolvedSystem } from '../options.js';
import type { ErpSystem } from '../types.js';
import type { SystemAdapter } from './adapter.js';
import { oracleAdapter } from './oracle.js';
import { sapAdapter } from './sap.js';
import { workdayAdapter } from './workday.js';

export const ADAPTERS: Readonly<Record<ErpSystem, (s: ResolvedSystem) => SystemAdapter>> = {
  sap: (s) => sapAdapter(s.baseUrl, s.sapClient),
  oracle: () => oracleAdapter(),
  workday: (s) => workdayAdapter(s.workday!.tenant, s.workday!.report),
};
