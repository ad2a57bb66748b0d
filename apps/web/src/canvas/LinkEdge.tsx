/**
 * A veth pair on the canvas: a curve between its two ports, dashed when either end
 * is down (administratively or without carrier).
 */
import { memo } from 'react';
import { BaseEdge, getBezierPath } from '@xyflow/react';
import type { EdgeProps } from '@xyflow/react';
import type { LinkEdge as LinkEdgeType } from './derive';

function LinkEdgeView({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, interactionWidth }: EdgeProps<LinkEdgeType>) {
  const [path] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, curvature: 0.35 });
  const cls = `link${data?.down ? ' is-down' : ''}${selected ? ' is-selected' : ''}`;
  return <BaseEdge path={path} className={cls} interactionWidth={interactionWidth ?? 14} />;
}

/** The veth edge component, registered in the canvas's module-level edgeTypes. */
export const LinkEdge = memo(LinkEdgeView);
