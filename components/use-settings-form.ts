"use client";
/**
 * A settings form over one server resource: the resource's query, a draft of the fields as the
 * person typed them (null: untouched, show the server's values), field errors (the schema's or the
 * server's, lib/packet-form.ts), and a save that stores the server's answer and clears the draft.
 */
import { useMutation, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useState } from "react";
import { serverErrorToFieldErrors, type FieldErrors } from "@/lib/packet-form";
import { ApiError, errorMessage } from "./api-client";

export function useSettingsForm<V, U>(queryKey: QueryKey, load: () => Promise<V>, store: (update: U) => Promise<V>) {
  const qc = useQueryClient();
  const query = useQuery({ queryKey, queryFn: load });
  const [draft, setDraft] = useState<Record<string, string> | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: store,
    onSuccess: (v) => {
      qc.setQueryData(queryKey, v);
      setDraft(null);
      setErrors({});
    },
    onError: (err) => setErrors(err instanceof ApiError ? serverErrorToFieldErrors(err) : { "(form)": errorMessage(err) }),
  });
  return { query, draft, setDraft, errors, setErrors, save };
}
