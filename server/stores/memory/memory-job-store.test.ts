import { jobStoreContract } from '../../jobs/test-fixtures/job-store-contract.js';
import { MemoryJobStore } from './memory-job-store.js';

jobStoreContract('MemoryJobStore', () => Promise.resolve(new MemoryJobStore()), { modelRuns: 500 });
