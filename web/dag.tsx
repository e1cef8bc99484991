/// <reference lib="dom" />
/**
 * A workflow run's DAG as SVG: dagre (npm `@dagrejs/dagre`) places the steps and routes the edges, Preact draws them.
 * The layout depends only on the steps and their dependencies, so it is computed once per run and a state change
 * only recolours a node. Each node links to its step's task; its name is its visible text (step id and state).
 *
 * @module
 */
import { graphlib, layout } from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";

/** What the drawing needs of one step. */
export interface DagStep {
  id: string;
  state: string;
  /** Empty while the step waits (its node is then not a link). */
  taskId: string;
  dependsOn: string[];
}

interface Placed {
  nodes: { id: string; x: number; y: number; width: number; height: number }[];
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

const NODE_HEIGHT = 46;
/** Pixels per character of a step id in the node's font (style.css: .dag text). */
const CHAR_WIDTH = 8;

/** Places the steps with dagre: left to right, dependencies before the steps that wait for them. */
function place(steps: { id: string; dependsOn: string[] }[]): Placed {
  const graph = new graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) {
    graph.setNode(step.id, {
      width: Math.min(280, Math.max(110, step.id.length * CHAR_WIDTH + 28)),
      height: NODE_HEIGHT,
    });
  }
  for (const step of steps) {
    for (const dependency of step.dependsOn) graph.setEdge(dependency, step.id);
  }
  layout(graph);
  const label = graph.graph();
  return {
    nodes: steps.map((step) => {
      const node = graph.node(step.id);
      return { id: step.id, x: node.x, y: node.y, width: node.width, height: node.height };
    }),
    edges: graph.edges().map((edge) => ({ from: edge.v, to: edge.w, points: graph.edge(edge).points ?? [] })),
    width: label.width ?? 0,
    height: label.height ?? 0,
  };
}

/** The run's steps as a graph: one node per step, coloured by its state, an arrow per dependency. */
export function Dag({ steps, label }: { steps: DagStep[]; label: string }) {
  const shape = JSON.stringify(steps.map((step) => [step.id, step.dependsOn]));
  const placed = useMemo(() => place(steps), [shape]);
  const byId = new Map(steps.map((step) => [step.id, step]));
  return (
    <div class="dag" tabIndex={0} role="region" aria-label={label}>
      <svg
        width={placed.width}
        height={placed.height}
        viewBox={`0 0 ${placed.width} ${placed.height}`}
        role="group"
        aria-label={`${steps.length} steps`}
      >
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {placed.edges.map((edge) => (
          <path
            key={`${edge.from}>${edge.to}`}
            class="edge"
            data-edge={`${edge.from}>${edge.to}`}
            d={edge.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ")}
            marker-end="url(#dag-arrow)"
          />
        ))}
        {placed.nodes.map((node) => {
          const step = byId.get(node.id)!;
          const box = (
            <>
              <rect x={node.x - node.width / 2} y={node.y - node.height / 2} width={node.width} height={node.height} />
              <text x={node.x} y={node.y - 4} class="name">{node.id}</text>
              <text x={node.x} y={node.y + 14}>{step.state}</text>
            </>
          );
          return step.taskId
            ? (
              <a
                key={node.id}
                href={`#/tasks/${encodeURIComponent(step.taskId)}`}
                class={`node ${step.state}`}
                data-step={node.id}
                data-state={step.state}
              >
                {box}
              </a>
            )
            : (
              <g
                key={node.id}
                class={`node ${step.state}`}
                data-step={node.id}
                data-state={step.state}
                role="img"
                aria-label={`${node.id} ${step.state}`}
              >
                {box}
              </g>
            );
        })}
      </svg>
    </div>
  );
}
