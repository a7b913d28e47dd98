/**
 * The column header row of a settings table (budgets, caps): one `<th scope="col">` per column
 * name, in the look both tables share.
 */
export function SettingsTableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr className="text-zinc-300">
        {columns.map((c) => (
          <th key={c} scope="col" className="p-1 text-left font-medium">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
