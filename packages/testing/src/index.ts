export * from './assert-no-plaintext.js';
export * from './load-fixture.js';
export * from './loopback-server.js';
export * from './provider-conformance.js';
