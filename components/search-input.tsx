"use client";
import { forwardRef } from "react";

interface Props {
  /** The accessible name (`aria-label`); say what is searched. */
  label: string;
  placeholder: string;
  testId: string;
  value: string;
  /** Called with the new text on every keystroke. */
  onChange: (text: string) => void;
  className: string;
}

/**
 * A search box (`<input type="search">`) whose owner keeps the text: the board's lane search and
 * the lane log's output search. The ref reaches the input (the board focuses it on `/`).
 */
export const SearchInput = forwardRef<HTMLInputElement, Props>(function SearchInput({ label, placeholder, testId, value, onChange, className }, ref) {
  return <input ref={ref} type="search" aria-label={label} data-testid={testId} placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} className={className} />;
});
