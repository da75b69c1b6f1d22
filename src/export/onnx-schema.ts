/**
 * @file The part of the ONNX file format (onnx/onnx.proto3, the public schema) that an exported
 * ResNet-9 uses, as protobuf.js message types, with TypeScript shapes for what we fill in.
 *
 * Only the messages and fields that the exporter writes are declared, with the official field
 * numbers and types, so every ONNX reader decodes the file; the other fields of these messages are
 * optional and stay unset. Names keep the schema's snake_case (`keepCase`), so they read like the
 * ONNX documentation. The schema is a string, not a .proto file, because the build emits only
 * compiled .ts into dist/ and a browser page has no files to read.
 */
import protobuf from 'protobufjs';

const schema = `
syntax = "proto3";
package onnx;

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
}

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    INTS = 7;
  }
  string name = 1;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  repeated int64 ints = 8;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
`;

/** TensorProto.DataType.FLOAT: the only element type the exported graph uses. */
export const FLOAT = 1;

/** AttributeProto.AttributeType values of the attributes we write. */
export const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export interface AttributeProto {
  name: string;
  type: (typeof AttributeType)[keyof typeof AttributeType];
  f?: number;
  i?: number;
  ints?: number[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  attribute?: AttributeProto[];
}

/** A dimension is a size, or a name for a size chosen at run time (the batch). */
export type Dimension = { dim_value: number } | { dim_param: string };

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dimension[] } } };
  doc_string?: string;
}

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  /** Fixed-width little-endian values, as the schema requires of raw_data. */
  raw_data: Uint8Array;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  doc_string?: string;
}

export interface ModelProto {
  ir_version: number;
  opset_import: Array<{ domain: string; version: number }>;
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: Array<{ key: string; value: string }>;
}

let modelType: protobuf.Type | undefined;

/** The ModelProto message type, parsed from the schema on first use. */
export function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialise a model. A field of the wrong type is a bug in the exporter, so it throws a plain Error. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX ModelProto: ${problem}`);
  return type.encode(model).finish();
}
