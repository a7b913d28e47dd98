import { SettingsPage } from "@/components/settings-page";

/** Settings a person can change: caps, budgets, a repo's policy, its webhooks. */
export default function Settings() {
  return <SettingsPage />;
}
