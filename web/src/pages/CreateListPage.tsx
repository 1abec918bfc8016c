export function CreateListPage() {
  return <h1>CreateListPage</h1>;
}
