// event_type: Cilium monitor event type, and the sub-type when match_sub_type is set.
import type { FilterBuilder } from './predicate';

export const eventTypeFilter: FilterBuilder = (ff) => {
  if (!ff.eventType.length) return [];
  const want = ff.eventType;
  return [
    (f) => {
      const got = f.eventType;
      if (!got) return false;
      return want.some((w) => w.type === got.type && (!w.matchSubType || w.subType === got.subType));
    },
  ];
};
