import { parentPort, workerData } from 'node:worker_threads';
import { type Group, key, measureOne, perCall, type Settings, wholeCall } from './harness.js';
import { concurrencySubjects, microSubjects } from './subjects.js';

// Worker entry: measures the one subject named in workerData and posts the result (see runRounds).
const { group, key: wanted, settings } = workerData as { group: Group; key: string; settings: Settings };
const subjects = group === 'micro' ? microSubjects() : concurrencySubjects();
const subject = subjects.find((s) => key(s) === wanted);
if (!subject) throw new Error(`bench: no subject ${wanted.replace('\u0000', ' / ')}`);
const meter = group === 'micro' ? perCall(settings) : wholeCall;
parentPort!.postMessage(await measureOne(subjects, subject, settings, meter));
