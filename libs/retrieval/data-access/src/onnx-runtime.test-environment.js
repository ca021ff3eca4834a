// Jest runs tests in their own realm, whose typed-array constructors differ from Node's: onnxruntime-node
// builds its output tensors with Node's and then rejects them (`instanceof Float32Array` fails). Tests that
// run an ONNX model use this environment, which hands the test realm Node's typed arrays.
const { TestEnvironment } = require('jest-environment-node');

const typedArrays = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'BigInt64Array',
  'Uint8Array',
  'Uint16Array',
  'Uint32Array',
  'BigUint64Array',
  'Uint8ClampedArray',
  'ArrayBuffer',
];

module.exports = class OnnxRuntimeTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of typedArrays) this.global[name] = globalThis[name];
  }
};
