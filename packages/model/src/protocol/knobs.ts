/**
 * The lab socket's kernel-knob messages: the inspector asks for a namespace's sysctls
 * (the allow-list of sysctl.ts, the namespace's own and each interface's) and gets
 * their values as the kernel has them now. Changing one is an ordinary `edit`
 * (`sysctl.set`), planned and shown like any other.
 */
import { z } from 'zod';

const labName = z.string().min(1).max(24);
const nodeName = z.string().min(1).max(24);
const requestId = z.string().max(64).optional();

/** Knob messages a client may send. */
export const knobClientMessages = [
  z.strictObject({ type: z.literal('sysctl-read'), id: requestId, lab: labName, node: nodeName }),
] as const;

/** Knob messages the server sends: every knob of the allow-list the kernel has, by sysctl name. */
export const knobServerMessages = [
  z.object({ type: z.literal('sysctls'), id: requestId, lab: z.string(), node: z.string(), values: z.record(z.string().max(128), z.string().max(64)) }),
] as const;
