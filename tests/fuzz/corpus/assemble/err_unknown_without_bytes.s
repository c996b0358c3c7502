<unknown>
