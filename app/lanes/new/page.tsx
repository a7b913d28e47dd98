import { NewLaneForm } from "@/components/new-lane-form";

/** Start a lane from the board: the task packet as a form. */
export default function NewLanePage() {
  return <NewLaneForm />;
}
