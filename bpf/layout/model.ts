// What the generator reads out of bpf/include/cillion_abi.h: every struct's size and its
// members' offsets and sizes, every enum's values, every integer #define. The generated
// bpf/abi_layout.gen.ts holds exactly this, so the drift check can compare the two.

export interface FieldLayout {
  offset: number;
  size: number;
}

/** Byte offset and size of each member, by its C name, in declaration order. */
export interface StructLayout {
  size: number;
  fields: Record<string, FieldLayout>;
}

export interface AbiLayout {
  structs: Record<string, StructLayout>;
  enums: Record<string, Record<string, number>>;
  defines: Record<string, number>;
}

export class LayoutError extends Error {
  constructor(
    readonly code: 'TOOL_MISSING' | 'COMPILE_FAILED' | 'BAD_BTF' | 'DRIFT',
    message: string,
  ) {
    super(message);
    this.name = 'LayoutError';
  }
}
