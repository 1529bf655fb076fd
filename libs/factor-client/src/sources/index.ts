import type { FactorSourceName } from '../types.js';
import type { SourceAdapter } from './adapter.js';
import { desnz } from './desnz.js';
import { ecoinvent } from './ecoinvent.js';
import { epa } from './epa.js';

export const ADAPTERS: Readonly<Record<FactorSourceName, SourceAdapter>> = { ecoinvent, desnz, epa };
