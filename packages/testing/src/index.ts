export * from './assert-no-plaintext.js';
export * from './load-fixture.js';
export * from './loopback-server.js';
export * from './provider-conformance.js';
export * from './token-store-conformance.js';
export * from './version-sunset.js';
export * from './multi-process/index.js';
export * from './grant-store-faults.js';
