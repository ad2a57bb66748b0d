/** The problems of one inspector field, shown right under it, in the learner's words. */
import { useShallow } from 'zustand/react/shallow';
import { useOps } from '../editing/store';
import { Icon } from '../ui/Icons';

/** Shows the problems placed at `field`, if any. */
export function FieldProblem({ field, id }: { field: string; id?: string }) {
  const messages = useOps(useShallow((s) => s.problems.filter((p) => p.field === field).map((p) => p.message)));
  if (messages.length === 0) return null;
  return (
    <div className="field-problem" role="alert" id={id}>
      {messages.map((m) => (
        <p key={m}><Icon name="alert" size={13} /> {m}</p>
      ))}
    </div>
  );
}

/** True when `field` has a problem (for aria-invalid). */
export function useFieldInvalid(field: string): boolean {
  return useOps((s) => s.problems.some((p) => p.field === field));
}
