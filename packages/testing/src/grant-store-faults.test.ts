import { memoryTokenStore } from '@letmepost/core';
import { runGrantStoreFaultSuite } from './grant-store-faults.js';

// The reference run: the memory store honours the contract the other stores are held to.
runGrantStoreFaultSuite({ name: 'memory', openStore: () => memoryTokenStore() });
