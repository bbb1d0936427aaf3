// The producer plugin interface: the daemon loads every producer, built-in or
// dropped in by a user, through this host.
export { ProducerHost, type ProducerHostOptions } from './host.js';
export { producerLimits, type LoadedProducer, type ProducerContext, type ProducerErrorKind } from './contract.js';
export { checkSample, type SampleCheck } from './sample-check.js';
export { loadProducerFolder, type FolderLoad } from './manifest.js';
export { checkProducerFolder, type CheckOptions, type CheckReport } from './check.js';
